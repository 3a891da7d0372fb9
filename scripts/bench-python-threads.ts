// The python section's "threads" part: CPU-bound Python threads (scripts/bench_python_threads.py) on python.wasm
// and on Debian's native python3.11 in the same run — 1, 2 and 4 threads: each thread's share of the iterations
// (fair within 10 %), the aggregate rate against the one-thread run of the same build (the cost of the GIL's hand-offs
// and the safe points), the GIL hand-off latency p50/p99 — and stop-the-world p50/p99 from the host while 2 and 4
// Python threads run. Alone: `node dist/scripts/bench-python-threads.js [--quick] [--json]`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureText, newCapture } from '../vms/posix/host/capture.js';
import { startNodePosixProcess } from '../vms/posix/host/node-process.js';
import { applyEngineFlags } from '../host/node/engine.js';
import { arg, parseArgs } from './args.js';
import { percentile, round } from './stats-util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NATIVE = '/usr/bin/python3.11';
const CLI = path.join(ROOT, 'dist', 'vms', 'python', 'host', 'cli.js');
const PROGRAM = path.join(ROOT, 'scripts', 'bench_python_threads.py');
const PYTHON_WASM = path.join(ROOT, 'build', 'python.wasm');
const PYTHON_EXECUTABLE = path.join(ROOT, 'build', 'python-lib', 'bin', 'python3.11');
/** A share is fair when it is within this fraction of 1/N. */
const FAIR = 0.1;

type Log = (s: string) => void;
interface ThreadsRun { threads: number; seconds: number; counts: number[]; handoffs_ms: number[] }

function runThreads(cmd: string, pre: string[], n: number, seconds: number): ThreadsRun {
  const r = spawnSync(cmd, [...pre, PROGRAM, String(n), String(seconds)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${PROGRAM} ${n}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ThreadsRun;
}

const p = (xs: number[], q: number) => round(percentile([...xs].sort((a, b) => a - b), q), 3);

/** One build's figures for 1, 2 and 4 threads. */
function figures(cmd: string, pre: string[], seconds: number, log: Log, what: string): Record<string, unknown> {
  const one = runThreads(cmd, pre, 1, seconds);
  const baseRate = one.counts[0] / one.seconds;
  const out: Record<string, unknown> = { one_thread_iterations_per_s: Math.round(baseRate) };
  for (const n of [2, 4]) {
    const r = runThreads(cmd, pre, n, seconds);
    const total = r.counts.reduce((a, b) => a + b, 0);
    const shares = r.counts.map((c) => round(c / total, 3));
    const fair = shares.every((s) => Math.abs(s - 1 / n) <= FAIR / n);
    const row = {
      shares, fair_within_10pct: fair,
      aggregate_vs_one_thread: round(total / r.seconds / baseRate, 3),
      handoffs: r.handoffs_ms.length, handoff_ms_p50: p(r.handoffs_ms, 50), handoff_ms_p99: p(r.handoffs_ms, 99),
    };
    out[`threads_${n}`] = row;
    log(`python threads ${what} ${n}: ${JSON.stringify(row)}`);
  }
  return out;
}

/** Room in the Python program's run for one stop, its start and the pause after it, when stops complete. */
const STOP_BUDGET_MS = 50;

/**
 * Stop-the-world from the host, `stops` times, while `threads` Python threads run the same loop (in this process):
 * each stop asks the GIL's holder for the GIL (docs/PYTHON.md "Threads"). A stop that does not complete within
 * `timeoutMs` is counted, not timed (the runtime restores the world); stops are made only while the threads run.
 */
async function stopTheWorld(threads: number, stops: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const capture = newCapture();
  const seconds = 3 + (stops * STOP_BUDGET_MS) / 1000;
  const proc = await startNodePosixProcess(PYTHON_WASM, [PYTHON_EXECUTABLE, PROGRAM, String(threads), String(seconds)],
    { capture, env: { READY: '1', PYTHONDONTWRITEBYTECODE: '1' }, endOnWorkerDeath: true });
  const end = performance.now() + 120_000;
  // the threads' "ready" lines may interleave with each other's newlines
  while ((captureText(capture).match(/ready/g) ?? []).length < threads) {
    if (performance.now() > end) throw new Error(`the Python threads did not start: ${captureText(capture).slice(-500)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms: number[] = [];
  let timedOut = 0;
  for (let i = 0; i < stops && !captureText(capture).includes('{'); i++) {
    const t0 = performance.now();
    try {
      await proc.rt.stopTheWorldAsync({ timeoutMs });
    } catch (e) {
      if ((e as { code?: string }).code !== 'E_TIMEOUT') throw e;
      timedOut++;
      continue;
    }
    ms.push(performance.now() - t0);
    await proc.rt.startTheWorldAsync();
    await new Promise((r) => setTimeout(r, 2));
  }
  const status = await proc.status;
  if (status !== 0) throw new Error(`the Python program under stops exited ${status}: ${captureText(capture).slice(-500)}`);
  const run = JSON.parse(captureText(capture).trim().split('\n').pop()!) as ThreadsRun;
  return {
    stops: ms.length + timedOut, timeout_ms: timeoutMs, completed: ms.length, timed_out: timedOut,
    ...(ms.length ? { stop_ms_p50: p(ms, 50), stop_ms_p99: p(ms, 99), stop_ms_max: p(ms, 100) } : {}), counts_during_stops: run.counts,
  };
}

export async function benchPythonThreads(opts: { quick: boolean; log: Log }): Promise<Record<string, unknown>> {
  const seconds = opts.quick ? 1 : 3;
  const wasm = figures(process.execPath, [CLI], seconds, opts.log, 'python.wasm');
  const native = figures(NATIVE, [], seconds, opts.log, 'native');
  const stw: Record<string, unknown> = {};
  for (const n of [2, 4]) {
    stw[`stop_the_world_${n}_threads`] = await stopTheWorld(n, opts.quick ? 10 : 100, 1000);
    opts.log(`python threads stop-the-world, ${n} threads: ${JSON.stringify(stw[`stop_the_world_${n}_threads`])}`);
  }
  return { seconds_per_run: seconds, python_wasm: wasm, native, ...stw };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    quick: arg(false, 'shorter runs, fewer stops'), json: arg(false, 'print the result as one line of JSON'),
  }, 'node dist/scripts/bench-python-threads.js', 'CPU-bound Python threads on python.wasm against native python3.11');
  applyEngineFlags('vm');
  const out = await benchPythonThreads({ quick: args.quick, log: args.json ? () => {} : (s) => console.error(s) });
  console.log(JSON.stringify(out, null, args.json ? 0 : 2));
}
