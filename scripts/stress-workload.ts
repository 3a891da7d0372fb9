// The stress workload behind `npm start` and `npm run start:browser`, free of
// platform specifics: interpreter threads (the reference VM) load a cached
// attribute, bump a lock-protected counter and sleep detached now and then; a
// mutator thread keeps changing that attribute; a seqlock writer/reader pair
// counts torn reads; meanwhile the main thread and any forking workers fork
// over and over, each child checking its copy (scripts/jobs/harness-child.ts)
// and the parent checking its own world after each fork and at the end, under
// a watchdog.
import { DIAG_QUIT as D_QUIT } from '../host/diag.js';
import type { Runtime, RuntimeOptions, StwStats, ThreadInfo, WorkerThread } from '../host/runtime.js';
import { OPS, assemble } from '../interp/assembler.js';
import { INTERP_JOB, Interpreter, TR_HITS, TR_MISSES, TR_STATE, type LoadedProgram } from '../interp/interpreter.js';
import { W_EXCLUSION } from '../host/layout.js';
import { MAX_FORK_POOL } from '../host/options.js';
import type { ForkTimings } from '../host/index.js';
import type { HarnessForkData } from './jobs/harness-child.js';
import { ForkTally, type ForkSample, type ForkerResult } from './jobs/harness-forker.js';
import { percentile, round } from './stats-util.js';
import { arg, defaultsOf, type Arg } from './args.js';

export interface StressOptions {
  threads: number;
  loops: number;
  warmup: number;
  spinChunk: number;
  duration: number;
  forks: number;
  seed: number;
  /** Workers that fork in a loop besides the main thread. */
  workerForkers: number;
}

/** The workload's options (both harnesses' command lines), each with its default. */
export const STRESS_OPTIONS = {
  threads: arg(2, 'interpreter threads (1…32)'),
  loops: arg(0, 'loops per thread (0: until the end)'),
  warmup: arg(3, 'forks before the measured ones'),
  spinChunk: arg(200, 'iterations between sleeps'),
  duration: arg(50, 'seconds to run'),
  forks: arg(0, 'forks at most (0: no cap)'),
  seed: arg(1, 'seed of the random schedule'),
  workerForkers: arg(0, 'workers that fork in a loop besides the main thread'),
} as const satisfies Record<keyof StressOptions, Arg<number>>;
export const STRESS_DEFAULTS: StressOptions = defaultsOf(STRESS_OPTIONS);

/** Throws on an option out of range. */
export function checkStressOptions(o: StressOptions): void {
  for (const k of Object.keys(STRESS_DEFAULTS) as (keyof StressOptions)[]) {
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new Error(`--${k} must be a non-negative integer`);
  }
  if (o.threads < 1 || o.threads > 32) throw new Error('--threads must be 1…32');
  if (o.spinChunk < 1) throw new Error('--spin-chunk must be ≥ 1');
}

/** What a live view sees while the workload runs. */
export interface StressProgress {
  elapsedS: number;
  fraction: number;
  forks: number;
  stops: number;
  counter: number;
  /** The main thread's measured forks so far. */
  samples: readonly ForkSample[];
  stats: StwStats;
  threads: ThreadInfo[];
}

export interface StressResult {
  summary: Record<string, unknown> & { ok: boolean; violations: string[]; fork_p50_ms: number };
  /** Every measured fork, main thread's and workers', in the order they started. */
  samples: ForkSample[];
  hist: number[];
}

/** The type record the program's attribute loads and the mutator's stores use. */
export const TYPE = 3;
const WATCHDOG_MS = 15_000;
const JOBS = new URL('./jobs/', import.meta.url);

/**
 * Warm children the workload asks for before its first fork: two per forking
 * loop (the main thread and each forking worker). A loop forks again as soon as
 * it has reaped its child, while that child's carrier is still recycling, and
 * the other loops' children hold theirs: with one warm child for two loops,
 * the forks of the first second waited for a recycling carrier or for a new
 * one's start-up (hundreds of ms) until the server's pool had grown to the
 * fork rate (docs/FORK.md, "Recycled children").
 */
export const stressPool = (o: StressOptions): number => Math.min(MAX_FORK_POOL, 2 * (1 + o.workerForkers));

/** The runtime options the workload needs (the fork continuation, capacity, deadlines). */
export function stressRuntimeOptions(o: StressOptions): RuntimeOptions {
  return {
    capacity: o.threads + 8,
    linked: ['interp', 'diag'],
    fork: { continuation: new URL('harness-child.js', JOBS), pool: stressPool(o) },
    stopTimeoutMs: 5000,
  };
}

/** The stress program (both harnesses run it): interpreter threads, the mutator. */
export function program(o: StressOptions, lock: number): string {
  const out = [`.globals ${2 + o.threads}`, '; g0 counter (under the lock), g1 stop flag, g2… per-thread counts'];
  for (let k = 0; k < o.threads; k++) {
    out.push(
      `w${k}:   push 0`, 'push ' + o.spinChunk,
      `L${k}:   gload 1`, `jz G${k}`, 'push 0', 'halt',
      ...(o.loops ? [`G${k}:   load 0`, `push ${o.loops}`, 'lt', `jz D${k}`] : [`G${k}:   poll`]),
      `push ${TYPE}`, 'load_attr 0', 'pop',
      `lock ${lock}`, 'gload 0', 'push 1', 'add', 'gstore 0', 'push 1', `gadd ${2 + k}`, 'pop', `unlock ${lock}`,
      'load 0', 'push 1', 'add', 'store 0',
      'load 1', 'push 1', 'sub', 'dup', 'store 1', `jz S${k}`, `jmp L${k}`,
      `S${k}:   push ${o.spinChunk}`, 'store 1', 'push 1', 'host sleep', `jmp L${k}`,
      `D${k}:   push 0`, 'halt',
    );
  }
  out.push(
    'mutator: push 1',
    'M:      gload 1', 'jz MG', 'push 0', 'halt',
    `MG:     push ${TYPE}`, 'load 0', 'store_attr 0', 'load 0', 'push 1', 'add', 'store 0', 'push 2', 'host sleep', 'jmp M',
  );
  return out.join('\n');
}

/** The running workload: what each harness checks and forks with. */
export interface Workload {
  it: Interpreter;
  lock: number;
  prog: LoadedProgram;
  /** The interpreter threads' records (their state and cache counters). */
  records: number[];
  /** The seqlock writer/reader pair that counts torn reads. */
  torn: WorkerThread[];
  /** Global `k` of the program (g0 the counter, g1 the stop flag, g2… per-thread counts). */
  g: (k: number) => number;
  forkData: HarnessForkData;
}

/**
 * Starts the workload on `rt`: the program, its interpreter threads and the
 * mutator, and the torn-read pair. The main thread is left detached.
 */
// How long the interpreter threads may take to start (compile, attach, first loop) on a loaded machine.
const THREADS_START_MS = 60_000;

export async function startWorkload(rt: Runtime, opts: StressOptions): Promise<Workload> {
  await rt.main.attachAsync();
  const it = new Interpreter(rt.main);
  const lock = rt.createLock('mutex');
  const src = assemble(program(opts, lock));
  const prog = it.load(src);
  const setup = it.load(assemble(`push ${TYPE}\npush ${opts.seed}\nstore_attr 0\nhalt`));
  it.run(it.frame(setup), setup);
  const records: number[] = [];
  const startThread = (entry: string) => {
    const record = it.newThreadRecord();
    records.push(record);
    rt.spawn(INTERP_JOB, { program: prog, entry, record });
  };
  for (let k = 0; k < opts.threads; k++) startThread(`w${k}`);
  startThread('mutator');
  rt.main.detach();
  const torn = [
    rt.spawn(new URL('diag.js', JOBS), { op: 'record-writer', rec: 6, seed: opts.seed * 7919 + 1 }),
    rt.spawn(new URL('diag.js', JOBS), { op: 'record-reader', rec: 6, validate: true }),
  ];
  const g = (k: number) => Atomics.load(new Int32Array(rt.memory.buffer), (prog.globals >> 2) + k);
  // forks are measured beside running interpreter threads, not beside threads still starting
  for (const end = performance.now() + THREADS_START_MS; g(0) === 0;) {
    if (performance.now() > end) throw new Error(`the interpreter threads did not run within ${THREADS_START_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
  // the inline-cache slots the program's load_attr instructions use (operand: key | slot << 8)
  const cacheSlots = src.code.reduce<number[]>((acc, v, i) => (i % 2 === 0 && v === OPS.load_attr ? [...acc, src.code[i + 1] >>> 8] : acc), []);
  const forkData: HarnessForkData = { globals: prog.globals, threads: opts.threads, lock, type: TYPE, cacheSlots };
  return { it, lock, prog, records, torn, g, forkData };
}

/** Percentile `p` of the stop latencies, from the core's log2 histogram: the bound of its bucket, in µs. */
export function stopPercentileUs(stats: StwStats, p: number): number {
  let acc = 0;
  for (let b = 0; b < stats.hist.length; b++) {
    acc += stats.hist[b];
    if (acc >= (p / 100) * stats.stops) return round(2 ** (b + 1) / 1000, 1);
  }
  return 0;
}

/** The end-of-run checks both harnesses make: each failed one, named. */
export function endViolations(r: {
  tornReads: number; lostUpdates: number; failedChildren: number; childCodes: Record<number, number>;
  failedThreads: number; hangs: number; timeouts: number; forks: number;
}): string[] {
  const v: string[] = [];
  if (r.tornReads) v.push(`${r.tornReads} torn reads`);
  if (r.lostUpdates) v.push(`${r.lostUpdates} lost counter updates`);
  if (r.failedChildren) v.push(`${r.failedChildren} failed children (exit codes ${JSON.stringify(r.childCodes)})`);
  if (r.failedThreads) v.push(`${r.failedThreads} interpreter threads failed`);
  if (r.hangs) v.push(`${r.hangs} hangs`);
  if (r.timeouts) v.push(`${r.timeouts} stop timeouts`);
  if (r.forks === 0) v.push('no fork completed');
  return v;
}

export interface StressHooks {
  progress?: (p: StressProgress) => void;
  progressEveryMs?: number;
  log?: (s: string) => void;
  /**
   * A fork has not returned for twice the watchdog time: the run cannot end
   * on its own (the world may stay stopped), so this gets the verdict so far.
   */
  stalled?: (verdict: { ok: false; hangs: number; forks: number; violations: string[] }) => void;
}

/**
 * Runs the workload on `rt` (created with stressRuntimeOptions) and closes it:
 * the main thread forks in a loop (async forms, so a page's main thread can run
 * it) beside `opts.workerForkers` forking workers, checking the parent's world
 * after each fork and at the end.
 */
export async function runStress(rt: Runtime, opts: StressOptions, hooks: StressHooks = {}): Promise<StressResult> {
  const log = hooks.log ?? ((s: string) => console.error(s));
  const i32 = () => new Int32Array(rt.memory.buffer);
  const { prog, records, torn, g, forkData } = await startWorkload(rt, opts);
  const forkers = Array.from({ length: opts.workerForkers }, () =>
    rt.spawn(new URL('harness-forker.js', JOBS), { forkData, warmup: opts.warmup }));
  const violations: string[] = [];
  const tally = new ForkTally(opts.warmup);
  let hangs = 0;
  const t0 = performance.now();
  const end = t0 + opts.duration * 1000;
  let lastDraw = 0;
  let lastProgress = { at: t0, counter: -1, forks: -1 };
  const stops0 = rt.stats().stops;

  const dump = (reason: string) => {
    log(`WATCHDOG: ${reason}`);
    log(JSON.stringify({ threads: rt.threadStates(), stats: rt.stats(), counter: g(0) }, null, 1));
  };

  // The loop checks progress between forks, so a fork that never returns would
  // stall the check with it: this watchdog runs on a timer instead.
  let lastForkAt = t0;
  const forkWatchdog = setInterval(() => {
    if (performance.now() - lastForkAt <= 2 * WATCHDOG_MS) return;
    clearInterval(forkWatchdog);
    dump(`no fork returned for ${(2 * WATCHDOG_MS) / 1000} s`);
    (hooks.stalled ?? (() => {}))({ ok: false, hangs: hangs + 1, forks: tally.forks, violations: [...violations, 'a fork did not return'] });
  }, 1000);

  try {
    while (performance.now() < end && (opts.forks === 0 || tally.forks < opts.forks)) {
      const at = ForkTally.now();
      try {
        const { pid, timings } = await rt.forkAsync({ data: forkData });
        const forked = ForkTally.now();
        tally.record(at, forked, timings, await rt.waitpidAsync(pid));
      } catch (e) {
        violations.push(`fork ${tally.forks} failed: ${e instanceof Error ? e.message : e}`);
        break;
      }
      lastForkAt = performance.now();
      // The parent's own world after each fork: this thread holds neither the
      // stop nor the import lock; with no worker forking meanwhile, nothing is
      // stopped at all and the import lock is free.
      const held = Atomics.load(i32(), W_EXCLUSION >> 2) === rt.handle || rt.core.lock_owner(0) === rt.handle;
      if (held || (forkers.length === 0 && !worldRunning(rt))) {
        violations.push(`after fork ${tally.forks}: the parent's world was not fully resumed`);
        break;
      }
      const now = performance.now();
      const counter = g(0);
      if (counter !== lastProgress.counter || tally.forks !== lastProgress.forks) lastProgress = { at: now, counter, forks: tally.forks };
      else if (now - lastProgress.at > WATCHDOG_MS) {
        hangs++;
        dump('no progress');
        break;
      }
      if (hooks.progress && now - lastDraw > (hooks.progressEveryMs ?? 200)) {
        lastDraw = now;
        hooks.progress({
          elapsedS: (now - t0) / 1000, fraction: Math.min(1, (now - t0) / (end - t0)), forks: tally.forks,
          stops: rt.stats().stops - stops0, counter, samples: tally.samples, stats: rt.stats(), threads: rt.threadStates(),
        });
      }
    }
  } finally {
    clearInterval(forkWatchdog);
  }
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
  const mainForks = tally.forks;
  for (const f of forkers) {
    const r = (await f.join()) as ForkerResult;
    tally.merge(r);
    if (r.error) violations.push(`a worker's fork failed: ${r.error}`);
  }
  // with every forker done, the whole world must be running and the import lock free
  if (!worldRunning(rt)) violations.push('at the end: the parent\'s world was not fully resumed');
  const stats = rt.stats();
  let perThread = 0;
  for (let k = 0; k < opts.threads; k++) perThread += g(2 + k);
  const counter = g(0);
  const lostUpdates = perThread - counter;
  const failedThreads = records.filter((r) => Atomics.load(i32(), (r + TR_STATE) >> 2) === 2).length;
  const hits = records.reduce((s, r) => s + Atomics.load(i32(), (r + TR_HITS) >> 2), 0);
  const misses = records.reduce((s, r) => s + Atomics.load(i32(), (r + TR_MISSES) >> 2), 0);
  await rt.closeAsync();

  const samples = tally.samples.sort((x, y) => x.at - y.at);
  const lat = samples.map((x) => x.ms).sort((x, y) => x - y);
  const pause = samples.map((x) => x.timings.copyMs).sort((x, y) => x - y);
  // The world is stopped for each stop's own latency (the core's stats) and,
  // for a fork, for the copy on top; the interpreter threads run the rest.
  const stoppedMs = stats.totalNs / 1e6 + pause.reduce((x, y) => x + y, 0);
  const histUs = (p: number) => stopPercentileUs(stats, p);
  violations.push(...endViolations({
    tornReads, lostUpdates, failedChildren: tally.failedChildren, childCodes: tally.codes, failedThreads, hangs,
    timeouts: stats.timeouts, forks: tally.forks,
  }));

  const summary = {
    threads: opts.threads, seconds: round(elapsed, 1), forks: tally.forks, worker_forks: tally.forks - mainForks,
    forks_per_s: round(tally.forks / elapsed, 2), cold_forks: samples.filter((x) => x.timings.cold).length,
    // every fork that waited for its child, the warm-up's included
    forks_waited: tally.waited,
    fork_p50_ms: round(percentile(lat, 50)), fork_p90_ms: round(percentile(lat, 90)), fork_p99_ms: round(percentile(lat, 99)),
    fork_pause_p50_ms: round(percentile(pause, 50), 3), fork_pause_p99_ms: round(percentile(pause, 99), 3),
    fork_breakdown_ms: forkBreakdown(samples),
    // the same parts over the slowest forks only (those at or above the p99): the part that grows there makes the tail
    fork_p99_breakdown_ms: forkBreakdown(samples.filter((x) => x.ms >= percentile(lat, 99))),
    world_running_pct: round(100 * (1 - stoppedMs / (elapsed * 1000)), 2),
    world_running_ge_90_pct: stoppedMs / (elapsed * 1000) <= 0.1,
    stw_stops: stats.stops, stw_timeouts: stats.timeouts,
    stw_p50_us: histUs(50), stw_p99_us: histUs(99), stw_max_us: round(stats.maxNs / 1000, 1),
    cache_hit_rate: round(hits + misses ? hits / (hits + misses) : 0, 4),
    counter, torn_reads: tornReads, lost_updates: lostUpdates, failed_children: tally.failedChildren, hangs,
    ok: violations.length === 0, violations,
  };
  return { summary, samples, hist: stats.hist };
}

/** Nothing stopped, no stop asked, no thread suspended, the import lock free. */
function worldRunning(rt: Runtime): boolean {
  return !rt.core.is_stopped() && rt.core.lock_owner(0) === 0 && !rt.threadStates().some((t) => t.stopRequested || t.state === 'SUSPENDED');
}

/**
 * The parts of a fork's round trip, in the order they happen, named as the
 * bench's fork rows name them; `handoff` spans child_wait … ack. `claim` is
 * the wait for another thread's fork to finish (one fork at a time).
 */
export const BREAKDOWN = {
  claim: 'claimMs', stop: 'stopMs', copy: 'copyMs', checksum_seal: 'sealMs', child_wait: 'childWaitMs', transfer: 'transferMs',
  child_read_verify: 'childReadMs', child_restore_start: 'childRestoreMs', ack: 'ackMs', handoff: 'handoffMs',
} as const satisfies Record<string, keyof ForkTimings>;

/** Each part's mean over `samples` (ms), and exit + waitpid after the fork returned. */
export function forkBreakdown(samples: readonly ForkSample[]): Record<keyof typeof BREAKDOWN | 'exit_waitpid', number> {
  const mean = (f: (x: ForkSample) => number) => (samples.length ? round(samples.reduce((s, x) => s + f(x), 0) / samples.length, 3) : 0);
  const out = {} as Record<keyof typeof BREAKDOWN | 'exit_waitpid', number>;
  for (const name of Object.keys(BREAKDOWN) as (keyof typeof BREAKDOWN)[]) out[name] = mean((x) => x.timings[BREAKDOWN[name]]);
  out.exit_waitpid = mean((x) => x.exitWaitMs);
  return out;
}

/** The summary as the harness prints it: a metric/value table (no violations, no CPython block, the breakdown flattened). */
export function summaryRows(summary: Record<string, unknown>): { metric: string; value: unknown }[] {
  return Object.entries(summary).filter(([k]) => k !== 'violations' && k !== 'cpython').flatMap(([metric, value]) =>
    value && typeof value === 'object' ? Object.entries(value).map(([k, v]) => ({ metric: `${metric}.${k}`, value: v })) : [{ metric, value }]);
}
