// The fork bench: round trip (fork → the child restores and exits → waitpid),
// the pause other threads see per fork, the parent's breakdown, the cold forks
// (rt.forkStats()), the cost per MiB of live heap, under both isolations, each
// row beside CPython's os.fork round trip measured in the same run; and the
// memory one live child costs per isolation (bench-fork-memory.ts).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRuntime, type Runtime } from '../host/node/index.js';
import type { ForkTimings } from '../host/fork/client.js';
import { userWordAddr } from '../host/layout.js';
import { interpOf } from '../host/modules.js';
import { DIAG_QUIT as D_QUIT, DIAG_SCRATCH } from '../host/diag.js';
import { percentile, round } from './stats-util.js';
import { forkChildMemory } from './bench-fork-memory.js';

const JOBS = new URL('./jobs/', import.meta.url);
const PROBE = new URL('pause-probe.js', JOBS);
const FORK_EXIT = new URL('fork-exit.js', JOBS);
const EPOCH = DIAG_SCRATCH + 960;

interface Opts { quick: boolean; log: (s: string) => void }

// Fills `mib` MiB above the heap base with non-zero data (growing memory), so
// the snapshot carries that much live memory.
function fillHeap(rt: Runtime, mib: number): void {
  // from the VM's heap base up: the blocks below it hold the linked modules' control words
  const base = interpOf(rt.core).interp_heap_base();
  const need = base + mib * 1024 * 1024;
  const have = rt.memory.buffer.byteLength;
  if (need > have) rt.memory.grow(Math.ceil((need - have) / 65536));
  const u32 = new Uint32Array(rt.memory.buffer, base, (mib * 1024 * 1024) / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < u32.length; i++) u32[i] = x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
}

const word = (rt: Runtime, addr: number) => Atomics.load(new Int32Array(rt.memory.buffer), addr >> 2);

// Spins (the main thread must not yield to the probes' stop) until `cond` holds.
function spinUntil(cond: () => boolean, what: string, ms = 10_000): void {
  const end = performance.now() + ms;
  while (!cond()) if (performance.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
}

const p50 = (xs: number[]) => round(percentile([...xs].sort((a, b) => a - b), 50), 3);
const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 3);

type Isolation = 'process' | 'thread';

export async function forkRow(
  o: Opts, threads: number, heapMib: number, pool: boolean, transfer: 'ipc' | 'file', isolation: Isolation = 'process',
): Promise<Record<string, unknown>> {
  const rt = await createRuntime({
    capacity: 16, threads, job: PROBE, jobData: { epoch: EPOCH }, maximumPages: 1024, linked: ['interp'],
    fork: { continuation: FORK_EXIT, pool: pool ? 1 : 0, transfer, isolation },
  });
  fillHeap(rt, heapMib);
  const idx = rt.workers.map((w) => w.handle & 0xff);
  const n = o.quick ? 5 : 30;
  const warmup = 3;
  const lat: number[] = [];
  const pause: number[] = [];
  const exitWait: number[] = [];
  const t: ForkTimings[] = [];
  for (let k = 0; k < n + warmup; k++) {
    // a warm fork: the pool has refilled (pool off: every fork spawns)
    if (pool) await rt.forkPoolReady(1);
    const epoch = k + 1;
    Atomics.store(new Int32Array(rt.memory.buffer), EPOCH >> 2, epoch);
    spinUntil(() => idx.every((i) => word(rt, userWordAddr(i, 2)) === epoch), 'the probes to start a new epoch');
    const t0 = performance.now();
    const out = rt.fork({ stopTimeoutMs: 10_000 });
    const t1 = performance.now();
    const status = rt.waitpid(out.pid);
    const t2 = performance.now();
    if (status !== 0) throw new Error(`fork child exited with ${status}`);
    // the probes have run on past the fork: their largest gap covers its pause
    const seen = idx.map((i) => word(rt, userWordAddr(i, 0)));
    spinUntil(() => idx.every((i, j) => word(rt, userWordAddr(i, 0)) - seen[j] >= 2), 'the probes to run on');
    if (k < warmup) continue;
    lat.push(t2 - t0);
    exitWait.push(t2 - t1);
    t.push(out.timings);
    if (threads) pause.push(Math.max(...idx.map((i) => word(rt, userWordAddr(i, 1)))) / 1000);
  }
  // the runtime's own count (warm-up forks included): what a harness reads through rt.forkStats()
  const cold = rt.forkStats().coldForks;
  Atomics.store(new Int32Array(rt.memory.buffer), D_QUIT >> 2, 1);
  await rt.close();
  const sorted = [...lat].sort((a, b) => a - b);
  const pick = (f: (x: ForkTimings) => number) => mean(t.map(f));
  const row = {
    isolation, threads, heap_mib: heapMib, pool, transfer,
    p50_ms: round(percentile(sorted, 50)), p90_ms: round(percentile(sorted, 90)), p99_ms: round(percentile(sorted, 99)), n: lat.length,
    // the time other threads were actually stopped per fork, seen from a spinning probe (none with 0 threads)
    pause_p50_ms: threads ? p50(pause) : null,
    pause_max_ms: threads ? round(Math.max(...pause), 3) : null,
    // the forking thread's own view of the stopped interval: the copy
    copy_p50_ms: p50(t.map((x) => x.copyMs)),
    cold_forks: cold,
    breakdown_mean_ms: {
      stop: pick((x) => x.stopMs), copy: pick((x) => x.copyMs), checksum_seal: pick((x) => x.sealMs),
      child_wait: pick((x) => x.childWaitMs), transfer: pick((x) => x.transferMs), child_read_verify: pick((x) => x.childReadMs),
      child_restore_start: pick((x) => x.childRestoreMs), ack: pick((x) => x.ackMs), handoff: pick((x) => x.handoffMs),
      exit_waitpid: mean(exitWait),
    },
  };
  o.log(`fork ${isolation} ${threads} threads, ${heapMib} MiB, pool ${pool ? 'on' : 'off'}, ${transfer}: p50 ${row.p50_ms} ms, pause p50 ${row.pause_p50_ms} ms, copy p50 ${row.copy_p50_ms} ms`);
  return row;
}

function cpythonRows(o: Opts, heaps: number[]): Record<string, unknown>[] | undefined {
  const script = fileURLToPath(new URL('../../scripts/cpython_fork_bench.py', import.meta.url));
  const rows = [];
  for (const threads of [0, 4]) {
    for (const heapMib of heaps) {
      try {
        const out = execFileSync('python3', [script, '--threads', String(threads), '--heap-mib', String(heapMib), '--loops', o.quick ? '10' : '50'],
          { encoding: 'utf8', timeout: 120_000 });
        const row = JSON.parse(out.trim().split('\n').pop()!);
        delete row.heap_len;
        o.log(`cpython ${threads} threads, ${heapMib} MiB: p50 ${row.p50_ms} ms`);
        rows.push(row);
      } catch (e) {
        o.log(`cpython baseline skipped: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        return undefined;
      }
    }
  }
  return rows;
}

// What one thread wake-up costs on this machine now: a worker answers each
// postMessage from this thread, p50 of the round trip (two wake-ups). A fork's
// hand-off takes four (the server, the child, the server, the forking thread),
// so this bounds the round trip from below whatever the fork itself costs.
async function wakeRoundTrip(n: number): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const w = new Worker('require("node:worker_threads").parentPort.on("message", (m) => require("node:worker_threads").parentPort.postMessage(m))', { eval: true });
  const trips: number[] = [];
  try {
    for (let i = 0; i < n + 10; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => { w.once('message', resolve); w.postMessage(i); });
      if (i >= 10) trips.push(performance.now() - t0);
    }
  } finally {
    await w.terminate();
  }
  return p50(trips);
}

export async function benchFork(o: Opts): Promise<Record<string, unknown>> {
  const heaps = o.quick ? [1, 4] : [1, 4, 16];
  const rows: Record<string, unknown>[] = [];
  for (const threads of [0, 4]) {
    for (const heapMib of heaps) rows.push(await forkRow(o, threads, heapMib, true, 'file'));
  }
  rows.push(await forkRow(o, 4, 4, false, 'file'));
  // children inside this process: a worker group with its own memory
  rows.push(await forkRow(o, 0, 1, true, 'file', 'thread'), await forkRow(o, 4, 4, true, 'file', 'thread'));
  // the transfer, measured: the same workload over IPC and over a tmpfs file
  const transfer = [await forkRow(o, 0, 4, true, 'ipc'), rows.find((r) => r.threads === 0 && r.heap_mib === 4)];
  const cpython = cpythonRows(o, heaps);
  const wakeMs = await wakeRoundTrip(o.quick ? 50 : 200);
  o.log(`a postMessage round trip to a worker (two wake-ups): p50 ${wakeMs} ms`);
  const py = (th: number, mib: number) => cpython?.find((r) => r.threads === th && r.heap_mib === mib) as Record<string, number> | undefined;
  // every row beside CPython's figure of the same run
  for (const r of [...rows, transfer[0]!]) {
    const c = py(r.threads as number, r.heap_mib as number);
    r.cpython_p50_ms = c?.p50_ms ?? null;
    r.ratio_to_cpython = c ? round((r.p50_ms as number) / c.p50_ms, 2) : null;
  }
  const at = (th: number, mib: number, isolation: Isolation = 'process') =>
    rows.find((r) => r.threads === th && r.heap_mib === mib && r.pool && r.isolation === isolation) as Record<string, number> | undefined;
  const hi = heaps[heaps.length - 1];
  const perMib = round(((at(0, hi)?.p50_ms ?? NaN) - (at(0, 1)?.p50_ms ?? NaN)) / (hi - 1), 3);
  const pause = at(4, 4);
  const targets: Record<string, boolean> = {
    fork_per_mib_le_0_5ms: perMib <= 0.5,
    fork_probe_pause_le_2x_copy_4_threads_4_mib: (pause?.pause_p50_ms ?? Infinity) <= 2 * (pause?.copy_p50_ms ?? 0),
    fork_thread_0_threads_1_mib_le_1ms: (at(0, 1, 'thread')?.p50_ms ?? Infinity) <= 1,
  };
  if (cpython) {
    targets.fork_process_0_threads_1_mib_le_3x_cpython_p50 = (at(0, 1)?.p50_ms ?? Infinity) <= 3 * (py(0, 1)?.p50_ms ?? 0);
    targets.fork_process_4_threads_4_mib_le_cpython_p50 = (at(4, 4)?.p50_ms ?? Infinity) <= (py(4, 4)?.p50_ms ?? 0);
    targets.fork_thread_4_threads_4_mib_le_half_cpython_p50 = (at(4, 4, 'thread')?.p50_ms ?? Infinity) <= 0.5 * (py(4, 4)?.p50_ms ?? 0);
  }
  o.log(`fork: ${perMib} ms per MiB of live heap`);
  const perChildMemory = await forkChildMemory(o);
  return { rows, transfer, per_mib_ms: perMib, wake_round_trip_p50_ms: wakeMs, per_child_memory: perChildMemory, cpython, targets };
}
