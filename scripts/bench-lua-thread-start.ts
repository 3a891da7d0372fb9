// Figures of thread.start for `npm run bench -- --only lua` (bench-lua.ts calls
// benchLuaThreadStart): the time from thread.start(f) to f's first instruction,
// each thread joined before the next starts, beside native pthread_create + join
// from a small C helper in the same run (scripts/bench-thread-start-native.c).
// Both sides read one monotonic clock on the two threads (thread.clock, and
// CLOCK_MONOTONIC). After the starts the process sleeps with its pool idle, and
// the CPU time it takes meanwhile is measured from /proc: an idle pool costs none.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats-util.js';

type Log = (s: string) => void;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'vms', 'lua', 'host', 'cli.js');
const IDLE_S = 2;

function script(starts: number): string {
  return `local first = {}
local function f(i) first[i] = thread.clock() end
for i = 1, ${starts} do
  local t0 = thread.clock()
  thread.start(f, i):join()
  print(string.format("L %.4f", (first[i] - t0) * 1000))
end
print("IDLE") io.stdout:flush()
thread.sleep(${IDLE_S})
print("END")`;
}

/** The CPU time (ms) of process `pid` so far, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

/** Latencies (ms) of one wasm-threads-lua run, and the CPU it took while its pool was idle. */
function wasmRun(file: string): Promise<{ latencies: number[]; idleCpuMs?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const latencies: number[] = [];
    let pending = '';
    let err = '';
    let idleFrom: number | undefined;
    let idleCpuMs: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('L ')) latencies.push(Number(line.slice(2)));
        else if (line === 'IDLE') idleFrom = cpuMs(child.pid!);
        else if (line === 'END') {
          const to = cpuMs(child.pid!);
          if (idleFrom !== undefined && to !== undefined) idleCpuMs = to - idleFrom;
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`wasm-threads-lua thread-start bench: status ${status}: ${err}`));
      else resolve({ latencies, idleCpuMs });
    });
  });
}

function nativeRun(dir: string, starts: number): number[] {
  const exe = path.join(dir, 'thread-start');
  execFileSync('gcc', ['-O2', '-pthread', path.join(ROOT, 'scripts', 'bench-thread-start-native.c'), '-o', exe]);
  return execFileSync(exe, [String(starts)], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').map((us) => Number(us) / 1000);
}

function summary(ms: number[]): { n: number; p50_ms: number; p99_ms: number; max_ms: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50_ms: +percentile(s, 50).toFixed(3), p99_ms: +percentile(s, 99).toFixed(3), max_ms: +s[s.length - 1].toFixed(3) };
}

export async function benchLuaThreadStart(opts: { quick: boolean; log: Log }): Promise<Record<string, unknown>> {
  const starts = opts.quick ? 100 : 300;
  const warm = 5; // the first starts grow the pool from nothing: a cold worker each
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lua-thread-start-'));
  try {
    const file = path.join(dir, 'start.lua');
    fs.writeFileSync(file, script(starts + warm));
    const run = await wasmRun(file);
    const wasm = summary(run.latencies.slice(warm));
    const cold_first_ms = +run.latencies[0].toFixed(3);
    let native: ReturnType<typeof summary> | { skipped: string };
    try {
      native = summary(nativeRun(dir, starts + warm).slice(warm));
    } catch (e) {
      native = { skipped: `the native helper did not run: ${e instanceof Error ? e.message : String(e)}` };
    }
    const idle = run.idleCpuMs === undefined ? undefined : +(run.idleCpuMs / IDLE_S).toFixed(1);
    opts.log(`lua thread start: p50 ${wasm.p50_ms} ms p99 ${wasm.p99_ms} ms (first, cold: ${cold_first_ms} ms)`
      + `${'p50_ms' in native ? `; native pthread_create p50 ${native.p50_ms} ms p99 ${native.p99_ms} ms` : ''}`
      + `; idle pool: ${idle ?? '?'} ms CPU per s`);
    return {
      starts, warm_up_starts: warm,
      method: 'thread.start(f) to f\'s first instruction, joined before the next; both sides one monotonic clock',
      wasm, cold_first_ms, native_pthread_create: native,
      ratio_p50: 'p50_ms' in native && native.p50_ms > 0 ? +(wasm.p50_ms / native.p50_ms).toFixed(1) : undefined,
      /** CPU time of the whole process while it slept with its pool idle, per second */
      idle_pool_cpu_ms_per_s: idle,
      targets: { p50_le_2ms: wasm.p50_ms <= 2, p99_le_10ms: wasm.p99_ms <= 10 },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
