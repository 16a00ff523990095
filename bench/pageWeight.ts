// What each page of the built app makes a visitor download: the static import closure of the
// page's chunk (and of the code Join / Start loads), raw and gzipped. Needs `npm run build`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIR = join(import.meta.dirname, '..', 'dist', 'assets');

/** Static imports (`from"./name-hash.js"`); lazily loaded chunks come later, on the action that needs them. */
function staticImports(file: string): string[] {
  return [...readFileSync(join(DIR, file), 'utf8').matchAll(/from\s*"\.\/([^"]+\.js)"/g)].map((m) => m[1]);
}

function closure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    staticImports(f).forEach(walk);
  };
  roots.forEach(walk);
  return seen;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.js'));
const chunk = (name: string): string => {
  const f = files.find((x) => x.startsWith(`${name}-`));
  if (!f) throw new Error(`no built chunk named ${name} in ${DIR}: run \`npm run build\` first`);
  return f;
};
const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;

const entry = chunk('index');
console.log(`[page-weight] ${files.length} chunks in dist/assets; per page, what a visitor downloads:`);
for (const [label, roots] of [
  ['dashboard', ['DashboardPage']],
  ['wallet', ['WalletPage']],
  ['volunteer', ['VolunteerPage']],
  ['volunteer after Join', ['VolunteerPage', 'joinSwarm']],
  ['volunteer after Start validator', ['VolunteerPage', 'startValidator']],
] as const) {
  const set = closure([entry, ...roots.map(chunk)]);
  let raw = 0;
  let gz = 0;
  for (const f of set) {
    const bytes = readFileSync(join(DIR, f));
    raw += bytes.length;
    gz += gzipSync(bytes).length;
  }
  console.log(`${label.padEnd(32)} ${kib(raw).padStart(9)} ${kib(gz).padStart(9)} gzip  (${set.size} chunks)`);
}
