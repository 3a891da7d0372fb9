// `npm start`: the headless stress harness. Interpreter threads (the reference
// VM) load a cached attribute, bump a lock-protected counter and sleep detached
// now and then; a mutator thread keeps changing that attribute; a seqlock
// writer/reader pair counts torn reads; meanwhile the main thread and a worker
// (--worker-forkers N) fork over and over, each child checking its copy
// (scripts/jobs/harness-child.ts) and the parent checking its own world after
// each fork and at the end. The summary reports the fork pause (the world
// stopped for the copy) and the share of the wall time the world ran.
//
//   --threads N (2) --loops N (0: until the end) --warmup N forks (3) --worker-forkers N (1)
//   --spin-chunk N iterations between sleeps (200) --duration S (50) --forks N (0: no cap)
//   --seed N (1) --json --report FILE.html --compare-cpython
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../host/node/index.js';
import { DIAG_QUIT as D_QUIT } from '../host/modules.js';
import { W_EXCLUSION } from '../host/layout.js';
import { TR_HITS, TR_MISSES, TR_STATE } from '../interp/interpreter.js';
import type { ForkerResult } from './jobs/harness-forker.js';
import { parseArgs, percentile, round } from './stats-util.js';
import { endViolations, startWorkload, stopPercentileUs } from './stress-workload.js';

const opts = parseArgs(process.argv.slice(2), {
  threads: 2, loops: 0, warmup: 3, spinChunk: 200, duration: 50, forks: 0, seed: 1,
  json: false, report: '', compareCpython: false, workerForkers: 1,
});
for (const k of ['threads', 'loops', 'warmup', 'spinChunk', 'duration', 'forks', 'seed', 'workerForkers'] as const) {
  if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a non-negative integer`);
}
if (opts.threads < 1 || opts.threads > 32) throw new Error('--threads must be 1…32');
if (opts.spinChunk < 1) throw new Error('--spin-chunk must be ≥ 1');

const WATCHDOG_MS = 15_000;
const JOBS = new URL('./jobs/', import.meta.url);

// ---- run (the program is scripts/stress-workload.ts's, shared with the browser harness) --------------------------------------------------------------------------

const rt = await createRuntime({
  capacity: opts.threads + 8,
  fork: { continuation: new URL('harness-child.js', JOBS), pool: 1 },
  stopTimeoutMs: 5000,
});
const i32 = () => new Int32Array(rt.memory.buffer);
const { prog, records, torn, g, forkData } = await startWorkload(rt, opts);
const violations: string[] = [];
const lat: number[] = [];
const pause: number[] = [];
const forkers = Array.from({ length: opts.workerForkers }, () =>
  rt.spawn(new URL('harness-forker.js', JOBS), { forkData, warmup: opts.warmup }));
let forks = 0;
let failedChildren = 0;
let hangs = 0;
const childCodes: Record<number, number> = {};
const t0 = performance.now();
const end = t0 + opts.duration * 1000;
let lastDraw = 0;
let lastProgress = { at: t0, counter: -1, forks: -1 };
const stops0 = rt.stats().stops;
const tty = process.stderr.isTTY && !opts.json;

function dump(reason: string): void {
  console.error(`WATCHDOG: ${reason}`);
  console.error(JSON.stringify({ threads: rt.threadStates(), stats: rt.stats(), counter: g(0) }, null, 1));
}

// The loop checks progress between forks, so a fork that never returns would
// stall the check with it: this watchdog runs on a timer and ends the run.
let lastForkAt = t0;
const forkWatchdog = setInterval(() => {
  if (performance.now() - lastForkAt <= 2 * WATCHDOG_MS) return;
  dump(`no fork returned for ${(2 * WATCHDOG_MS) / 1000} s`);
  const verdict = { ok: false, hangs: hangs + 1, forks, violations: [...violations, 'a fork did not return'] };
  console.log(opts.json ? JSON.stringify(verdict) : `VIOLATIONS:\n  ${verdict.violations.join('\n  ')}`);
  process.exit(1);
}, 1000);
forkWatchdog.unref();

while (performance.now() < end && (opts.forks === 0 || forks < opts.forks)) {
  const a = performance.now();
  try {
    const { pid, timings } = await rt.forkAsync({ data: forkData });
    const status = await rt.waitpidAsync(pid);
    if (forks >= opts.warmup) {
      lat.push(performance.now() - a);
      pause.push(timings.copyMs);
    }
    if (status !== 0) {
      failedChildren++;
      childCodes[status] = (childCodes[status] ?? 0) + 1;
    }
  } catch (e) {
    violations.push(`fork ${forks} failed: ${e instanceof Error ? e.message : e}`);
    break;
  }
  forks++;
  lastForkAt = performance.now();
  // the parent's own world after each fork: this thread holds neither the
  // stop nor the import lock (a worker's fork may be under way meanwhile)
  if (Atomics.load(i32(), W_EXCLUSION >> 2) === rt.handle || rt.core.lock_owner(0) === rt.handle) {
    violations.push(`after fork ${forks}: the parent's world was not fully resumed`);
    break;
  }
  const now = performance.now();
  const counter = g(0);
  if (counter !== lastProgress.counter || forks !== lastProgress.forks) lastProgress = { at: now, counter, forks };
  else if (now - lastProgress.at > WATCHDOG_MS) {
    hangs++;
    dump('no progress');
    break;
  }
  if (tty && now - lastDraw > 200) {
    lastDraw = now;
    const done = Math.min(1, (now - t0) / (end - t0));
    const s = (now - t0) / 1000;
    process.stderr.write(`\r[${'#'.repeat(Math.round(done * 30)).padEnd(30, '.')}] ${forks} forks ${(forks / s).toFixed(1)}/s, ` +
      `${Math.round((rt.stats().stops - stops0) / s)} stops/s, counter ${counter}   `);
  }
}
clearInterval(forkWatchdog);
if (tty) process.stderr.write('\n');
const elapsed = (performance.now() - t0) / 1000;

// stop everything and check the parent's invariants
Atomics.store(i32(), (prog.globals >> 2) + 1, 1);
Atomics.store(i32(), D_QUIT >> 2, 1);
const joinBy = performance.now() + WATCHDOG_MS;
while (records.some((r) => Atomics.load(i32(), (r + TR_STATE) >> 2) === 0)) {
  if (performance.now() > joinBy) {
    hangs++;
    dump('interpreter threads did not finish');
    break;
  }
  await new Promise((r) => setTimeout(r, 10));
}
const tornReads = (await Promise.all(torn.map((w) => w.join())))[1] as number;
let workerForks = 0;
for (const f of forkers) {
  const r = (await f.join()) as ForkerResult;
  workerForks += r.forks;
  lat.push(...r.latMs);
  pause.push(...r.pauseMs);
  failedChildren += r.failedChildren;
  for (const [c, n] of Object.entries(r.codes)) childCodes[Number(c)] = (childCodes[Number(c)] ?? 0) + n;
  if (r.error) violations.push(`a worker's fork failed: ${r.error}`);
}
// with every forker done, the whole world must be running and the import lock free
if (rt.core.is_stopped() || rt.core.lock_owner(0) !== 0 || rt.threadStates().some((t) => t.stopRequested || t.state === 'SUSPENDED')) {
  violations.push('at the end: the parent\'s world was not fully resumed');
}
const stats = rt.stats();
let perThread = 0;
for (let k = 0; k < opts.threads; k++) perThread += g(2 + k);
const counter = g(0);
const lostUpdates = perThread - counter;
const failedThreads = records.filter((r) => Atomics.load(i32(), (r + TR_STATE) >> 2) === 2).length;
const hits = records.reduce((s, r) => s + Atomics.load(i32(), (r + TR_HITS) >> 2), 0);
const misses = records.reduce((s, r) => s + Atomics.load(i32(), (r + TR_MISSES) >> 2), 0);
await rt.close();

lat.sort((x, y) => x - y);
pause.sort((x, y) => x - y);
// The world is stopped for each stop's own latency (the core's stats) and,
// for a fork, for the copy on top; the interpreter threads run the rest.
const stoppedMs = stats.totalNs / 1e6 + pause.reduce((x, y) => x + y, 0);
const histUs = (p: number) => stopPercentileUs(stats, p);
violations.push(...endViolations({ tornReads, lostUpdates, failedChildren, childCodes, failedThreads, hangs, timeouts: stats.timeouts, forks }));

const summary = {
  threads: opts.threads, seconds: round(elapsed, 1), forks: forks + workerForks, worker_forks: workerForks,
  forks_per_s: round((forks + workerForks) / elapsed, 2),
  fork_p50_ms: round(percentile(lat, 50)), fork_p90_ms: round(percentile(lat, 90)), fork_p99_ms: round(percentile(lat, 99)),
  fork_pause_p50_ms: round(percentile(pause, 50), 3), fork_pause_p99_ms: round(percentile(pause, 99), 3),
  world_running_pct: round(100 * (1 - stoppedMs / (elapsed * 1000)), 2),
  world_running_ge_90_pct: stoppedMs / (elapsed * 1000) <= 0.1,
  stw_stops: stats.stops, stw_timeouts: stats.timeouts,
  stw_p50_us: histUs(50), stw_p99_us: histUs(99), stw_max_us: round(stats.maxNs / 1000, 1),
  cache_hit_rate: round(hits + misses ? hits / (hits + misses) : 0, 4),
  counter, torn_reads: tornReads, lost_updates: lostUpdates, failed_children: failedChildren, hangs,
  ok: violations.length === 0, violations,
} as Record<string, unknown>;

if (opts.compareCpython) {
  try {
    const script = fileURLToPath(new URL('../../scripts/cpython_fork_bench.py', import.meta.url));
    const py = JSON.parse(execFileSync('python3', [script, '--threads', String(opts.threads), '--loops', '30', '--spin-chunk', String(opts.spinChunk)], { encoding: 'utf8' }).trim());
    summary.cpython = py;
    summary.fork_p50_vs_cpython = round((summary.fork_p50_ms as number) / py.p50_ms, 2);
  } catch (e) {
    summary.cpython = `unavailable: ${e instanceof Error ? e.message.split('\n')[0] : e}`;
  }
}

if (opts.report) writeFileSync(opts.report, report(summary, lat, stats.hist));
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  console.table(Object.entries(summary).filter(([k]) => k !== 'violations' && k !== 'cpython').map(([metric, value]) => ({ metric, value })));
  if (violations.length) console.error(`VIOLATIONS:\n  ${violations.join('\n  ')}`);
}
process.exitCode = violations.length ? 1 : 0;

// ---- report --------------------------------------------------------------------------

function bars(title: string, labels: string[], counts: number[]): string {
  const max = Math.max(1, ...counts);
  const w = 24;
  const h = 160;
  const rects = counts.map((c, i) => {
    const bh = Math.round((c / max) * h);
    return `<rect x="${i * w + 40}" y="${h - bh + 10}" width="${w - 4}" height="${bh}" fill="#4a7"><title>${labels[i]}: ${c}</title></rect>` +
      `<text x="${i * w + 40}" y="${h + 24}" font-size="9" transform="rotate(45 ${i * w + 40} ${h + 24})">${labels[i]}</text>`;
  }).join('');
  return `<h2>${title}</h2><svg width="${counts.length * w + 60}" height="${h + 70}" xmlns="http://www.w3.org/2000/svg">${rects}</svg>`;
}

function report(s: Record<string, unknown>, forkMs: number[], hist: number[]): string {
  const edges = [5, 10, 20, 30, 40, 60, 80, 100, 150, 200, 300, 500, 1000];
  const forkCounts = edges.map((e, i) => forkMs.filter((v) => v <= e && v > (edges[i - 1] ?? 0)).length);
  const first = hist.findIndex((c) => c > 0);
  const last = hist.length - 1 - [...hist].reverse().findIndex((c) => c > 0);
  const stwLabels = first < 0 ? [] : hist.slice(first, last + 1).map((_, i) => `<${(2 ** (first + i + 1) / 1000).toFixed(1)}µs`);
  const rows = Object.entries(s).map(([k, v]) => `<tr><td>${k}</td><td>${typeof v === 'object' ? JSON.stringify(v) : v}</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>wasm-threads-core stress report</title>
<style>body{font:14px system-ui;margin:2em}td{padding:2px 8px;border-bottom:1px solid #ddd}</style>
<h1>Stress harness report</h1><table>${rows}</table>
${bars('Fork round trip (ms)', edges.map((e) => `≤${e}`), forkCounts)}
${first < 0 ? '' : bars('Stop-the-world latency', stwLabels, hist.slice(first, last + 1))}`;
}
