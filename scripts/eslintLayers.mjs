// The dependency rule of docs/ARCHITECTURE.md as data, and the two ESLint rules that enforce it:
// `layers/direction` (a folder imports only the folders below it) and `layers/no-cycle` (no file cycles).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What each layer may import, besides itself. A layer is a folder of src/ (src/main.tsx counts as
 * ui) or server/. Listing a layer's full reach keeps the rule readable: no transitive lookups.
 */
export const LAYERS = {
  model: [],
  storage: [],
  protocol: ['model'],
  compress: ['model'],
  gpu: ['model', 'compress'],
  train: ['model', 'gpu', 'storage'],
  p2p: ['protocol'],
  wallet: ['protocol', 'storage'],
  validator: ['model', 'gpu', 'compress', 'train', 'protocol', 'wallet'],
  swarm: ['model', 'gpu', 'compress', 'train', 'protocol', 'wallet', 'validator', 'p2p', 'storage'],
  server: ['protocol', 'p2p', 'validator'],
  ui: ['model', 'gpu', 'compress', 'train', 'protocol', 'wallet', 'validator', 'p2p', 'storage', 'swarm'],
  node: ['model', 'gpu', 'compress', 'train', 'protocol', 'wallet', 'validator', 'p2p', 'storage', 'swarm', 'server'],
};

/**
 * Packages only some layers (or single files, by path) may use: React is the app's; Node's
 * built-ins, SQLite and Dawn stay out of everything a tab loads; the chain client is the CLI's.
 */
export const PACKAGES = {
  react: ['ui'],
  'react-dom': ['ui'],
  uplot: ['ui'],
  'node:*': ['node', 'server', 'src/gpu/nodeGpu.ts'],
  'better-sqlite3': ['node', 'src/validator/ledger.ts'],
  webgpu: ['node', 'src/gpu/nodeGpu.ts'],
  ws: ['server', 'node'],
  'simple-peer': ['p2p'],
  '@roamhq/wrtc': ['node'],
  '@polkadot/api': ['node'],
  '@polkadot/*': ['protocol', 'wallet', 'node'],
  openskill: ['validator'],
};

// fileURLToPath, not URL.pathname: a percent-encoded path would match no layer and switch the rules off.
const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, '');

/** The layer a file belongs to, or undefined outside the layered code (tests, benches, scripts). */
export function layerOf(file) {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'server') return 'server';
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return 'ui'; // src/main.tsx, the app's entry
  return parts[1] in LAYERS ? parts[1] : undefined;
}

const EXTENSIONS = ['.ts', '.tsx', '.mjs', '.js'];

/** A relative specifier resolved to a file of the tree, or undefined for packages and misses. */
function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, ...EXTENSIONS.map((e) => base.replace(/\.js$/, '') + e), ...EXTENSIONS.map((e) => join(base, 'index' + e))])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return undefined;
}

/** The PACKAGES entry governing a bare specifier: its exact name, else its scope's `@scope/*` or `node:*`. */
function packageRule(spec) {
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  if (name in PACKAGES) return [name, PACKAGES[name]];
  const wide = spec.startsWith('node:') ? 'node:*' : spec.startsWith('@') ? `${name.split('/')[0]}/*` : undefined;
  return wide && wide in PACKAGES ? [wide, PACKAGES[wide]] : undefined;
}

/** Every import, export-from and dynamic import with a literal source. */
function importVisitors(check) {
  const visit = (node) => node.source && typeof node.source.value === 'string' && check(node, node.source.value);
  return { ImportDeclaration: visit, ExportNamedDeclaration: visit, ExportAllDeclaration: visit, ImportExpression: visit };
}

const direction = {
  meta: { type: 'problem', docs: { description: 'imports follow the layer table of docs/ARCHITECTURE.md' }, schema: [] },
  create(context) {
    const file = context.filename;
    const layer = layerOf(file);
    if (!layer) return {};
    return importVisitors((node, spec) => {
      const target = resolveImport(file, spec);
      if (target) {
        const to = layerOf(target);
        if (to && to !== layer && !LAYERS[layer].includes(to))
          context.report({
            node,
            message: `src/${layer} may not import ${to === 'server' ? 'server/' : `src/${to}`} (see docs/ARCHITECTURE.md, "Dependency direction")`,
          });
      } else if (!spec.startsWith('.')) {
        const rule = packageRule(spec);
        const here = relative(ROOT, file).split(sep).join('/');
        if (rule && !rule[1].includes(layer) && !rule[1].includes(here))
          context.report({ node, message: `${rule[0]} is for ${rule[1].join(', ')} only, not ${here} (see docs/ARCHITECTURE.md)` });
      }
    });
  },
};

/**
 * The project's import graph (layered files only), scanned from disk once per process; the file
 * being linted is re-read from its source each time, so an editor's long-lived ESLint stays current.
 */
let graph;
const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
/** The layered files a source text imports. */
function importsOf(file, text) {
  const deps = new Set();
  for (const m of text.matchAll(IMPORT_RE)) {
    const t = resolveImport(file, m[1] ?? m[2] ?? m[3]);
    if (t && layerOf(t)) deps.add(t);
  }
  return deps;
}

function projectGraph() {
  if (graph) return graph;
  graph = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx)$/.test(name)) graph.set(p, importsOf(p, readFileSync(p, 'utf8')));
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'server'));
  return graph;
}

/** A path of imports from `start` back to `goal`, or undefined. */
function pathTo(start, goal) {
  const g = projectGraph();
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length) {
    const [node, path] = stack.pop();
    if (node === goal) return path;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const next of g.get(node) ?? []) stack.push([next, [...path, next]]);
  }
  return undefined;
}

const noCycle = {
  meta: { type: 'problem', docs: { description: 'no import cycles between the files of src/ and server/' }, schema: [] },
  create(context) {
    const file = context.filename;
    if (!layerOf(file)) return {};
    projectGraph().set(file, importsOf(file, context.sourceCode.text));
    return importVisitors((node, spec) => {
      const target = resolveImport(file, spec);
      if (!target || !layerOf(target)) return;
      const back = pathTo(target, file);
      if (back) context.report({ node, message: `import cycle: ${[file, ...back].map((p) => relative(ROOT, p)).join(' → ')}` });
    });
  },
};

export const layersPlugin = { rules: { direction, 'no-cycle': noCycle } };
