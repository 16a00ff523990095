// `npm run bench:abuse`: 10,000 fuzz cases, a 600-connection flood from one address, idle and
// slow clients against a real `tessera serve`, with an honest pair signaling and /healthz timed.
import { randomSigner } from '../src/protocol/keys';
import { abuseCases, flood, idleClients, runCases, slowClients, summaryLine, TARGETS, underAbuse, validatorJoins } from '../test/support/abuse';
import { SIGNAL_LIMITS } from '../src/p2p/signalingProtocol';

const flags = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const CASES = Number(flags.get('cases') ?? 10_000);
const SEED = Number(flags.get('seed') ?? 23);
const FLOOD = Number(flags.get('flood') ?? 600);
const IDLE = Number(flags.get('idle') ?? 512);
const SLOW = Number(flags.get('slow') ?? 20);
/** Longer than the app server's header timeout (10 s), so cutting slow clients shows. */
const SLOW_FOR_MS = 12_000;

const validator = randomSigner();
const t0 = Date.now();
const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

const report = await underAbuse({ validator }, async (server, phase) => {
  phase('fuzz');
  const outcomes = await runCases(server, abuseCases(CASES, SEED, TARGETS));
  console.log(`[abuse] ${CASES} fuzz cases (seed ${SEED}) in ${elapsed()}: ${JSON.stringify(outcomes)}`);
  phase('flood');
  const [flooded, validatorOk] = await Promise.all([
    flood(server, FLOOD, '127.0.0.2', 3000),
    (async () => (await new Promise((r) => setTimeout(r, 1500)), validatorJoins(server, validator, '127.0.0.3')))(),
  ]);
  console.log(
    `[abuse] flood of ${FLOOD} signed joins from 127.0.0.2: ${flooded.welcomed} welcomed (cap ${SIGNAL_LIMITS.perAddress.connections}), ${flooded.addressLimit} address-limit, ${flooded.other} other; validator joined during it: ${validatorOk} (${elapsed()})`,
  );
  phase('idle+slow');
  // Idle WebSockets and slowloris HTTP clients at once: the join deadline and the header timeout.
  const [idle, slow] = await Promise.all([idleClients(server, IDLE, SIGNAL_LIMITS.joinTimeoutMs + 1500), slowClients(server, SLOW, 250, SLOW_FOR_MS)]);
  console.log(
    `[abuse] ${idle.opened} idle connections (16 per address): ${idle.closedByServer} closed by the join deadline (${SIGNAL_LIMITS.joinTimeoutMs} ms)`,
  );
  console.log(
    `[abuse] ${slow.clients} slowloris clients (a header byte every 250 ms): ${slow.cut} cut off by the server within ${SLOW_FOR_MS / 1000} s (${elapsed()})`,
  );
  if (flooded.welcomed > SIGNAL_LIMITS.perAddress.connections || !validatorOk || idle.closedByServer < idle.opened)
    throw new Error('a flood limit did not hold');
  return CASES + FLOOD + IDLE + SLOW;
});

console.log(`[abuse] server events: ${JSON.stringify(report.outcomes)}`);
console.log(
  `[abuse] honest rounds ${report.honest.rounds}, failed ${report.honest.failures}${report.honest.errors.length ? `: ${report.honest.errors.join('; ')}` : ''}`,
);
console.log(
  `[abuse] /healthz: ${report.healthz.samples} samples, ${report.healthz.failures} failed, p50 ${report.healthz.p50.toFixed(1)} ms, max ${report.healthz.max.toFixed(1)} ms; by phase: ${report.phases.map((p) => `${p.phase} p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (${p.samples})`).join('; ')}`,
);
if (report.loopDelay)
  console.log(`[abuse] the server's event-loop delay: p99 ${report.loopDelay.p99.toFixed(1)} ms, max ${report.loopDelay.max.toFixed(1)} ms`);
for (const c of report.crashOutput) console.log(`[abuse] CRASH ${c}`);
console.log(summaryLine(report));
process.exitCode = report.crashes === 0 && report.honest.failures === 0 && report.healthz.p99 <= 100 ? 0 : 1;
