// `npm run demo`: N workers spin in Wasm polling their safe point while the main
// thread stops and starts the world over and over; prints progress and a
// stats table. Options: --threads N (4) --cycles N (1000) --timeout-ms N (2000) --json
import { applyEngineFlags, createRuntime } from '../host/node/index.js';
import { handleIndex, userWordAddr } from '../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../host/diag.js';
import { percentile, round } from './stats-util.js';
import { arg, parseArgs } from './args.js';

const opts = parseArgs(process.argv.slice(2), {
  threads: arg(4, 'spinning workers'), cycles: arg(1000, 'stop/start cycles'), timeoutMs: arg(2000, 'deadline of each stop, ms'),
  json: arg(false, 'print the result as JSON'),
}, 'npm run demo --', 'stops and starts the world over spinning workers and prints the latencies');
if (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 64) throw new Error('--threads must be 1…64');
if (!Number.isInteger(opts.cycles) || opts.cycles < 1) throw new Error('--cycles must be a positive integer');

// this command's tiering: before any compile (docs/EMBEDDING.md, "Engines")
applyEngineFlags();
const rt = await createRuntime({
  capacity: opts.threads + 1,
  linked: ['diag'],
  threads: opts.threads,
  job: new URL('./jobs/spin.js', import.meta.url),
  stopTimeoutMs: opts.timeoutMs,
});
const i32 = new Int32Array(rt.memory.buffer);
const idx = rt.workers.map((w) => handleIndex(w.handle));
const progress = () => idx.map((i) => Atomics.load(i32, userWordAddr(i, 0) >> 2) >>> 0);

const latUs: number[] = [];
let frozenViolations = 0;
const tty = process.stderr.isTTY && !opts.json;
const t0 = performance.now();
let lastDraw = 0;
for (let k = 0; k < opts.cycles; k++) {
  const a = performance.now();
  rt.stopTheWorld();
  latUs.push((performance.now() - a) * 1000);
  // a spinning worker moves its counter every few ns: watch it for 50 µs
  const before = progress();
  const watchUntil = performance.now() + 0.05;
  while (performance.now() < watchUntil) {
    if (progress().some((p, j) => p !== before[j])) {
      frozenViolations++;
      break;
    }
  }
  rt.startTheWorld();
  // Let every worker run again before the next stop: back-to-back stops would
  // park threads before they re-attach, and measure nothing but parking.
  const resumed = progress();
  const until = performance.now() + 1000;
  while (progress().some((p, j) => p === resumed[j]) && performance.now() < until);
  const now = performance.now();
  if (tty && (now - lastDraw > 100 || k === opts.cycles - 1)) {
    lastDraw = now;
    const done = (k + 1) / opts.cycles;
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
    process.stderr.write(`\r[${bar}] ${k + 1}/${opts.cycles} stops, ${Math.round((k + 1) / ((now - t0) / 1000))} stops/s`);
  }
}
if (tty) process.stderr.write('\n');
const elapsed = (performance.now() - t0) / 1000;
const s = rt.stats();
Atomics.store(i32, D_QUIT >> 2, 1);
await rt.close();

latUs.sort((x, y) => x - y);
const summary = {
  threads: opts.threads,
  cycles: opts.cycles,
  seconds: round(elapsed, 2),
  stops_per_s: Math.round(opts.cycles / elapsed),
  stop_p50_us: round(percentile(latUs, 50)),
  stop_p99_us: round(percentile(latUs, 99)),
  stop_max_us: round(latUs[latUs.length - 1]),
  core_stops: s.stops,
  core_timeouts: s.timeouts,
  core_max_us: round(s.maxNs / 1000),
  forced_parks: s.forcedParks,
  self_suspends: s.selfSuspends,
  attach_waits: s.attachWaits,
  progress_while_stopped: frozenViolations,
};
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  console.table(Object.entries(summary).map(([k, v]) => ({ metric: k, value: v })));
}
const ok = s.stops === opts.cycles && s.timeouts === 0 && frozenViolations === 0;
if (!ok) console.error('VIOLATION: stops, timeouts or frozen-world check failed');
process.exitCode = ok ? 0 : 1;
