// Figures of os.fork for `npm run bench -- --only lua` (bench-lua.ts calls
// benchLuaFork): the round trip of a fork of a Lua process — os.fork, the child
// exits at once, os.waitpid returns — with 0 and 4 MiB of Lua heap and 0 and 2
// other threads spinning, beside native lua5.4 forking the same way in the
// same run. The wasm-threads-lua command runs as its own process; it prints a
// line before each fork and after each waitpid, and the round trip is the time
// between their arrivals (a fork takes milliseconds; a pipe hop, microseconds).
// The native side times itself with a monotonic clock. Beside them, the
// fork-anywhere build (WASM_THREADS_LUA_FORK=anywhere) forking at the top of
// the chunk and under a string.gsub callback, in the same run. Each case is
// run once more with WASM_THREADS_FORK_TRACE (host/fork/trace.ts) for where
// its round trip goes, phase by phase (scripts/fork-trace.ts): a run of its
// own, so the tracing's writes stay out of the figures above it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats-util.js';
import { breakdown, forksOf } from './fork-trace.js';

type Log = (s: string) => void;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'vms', 'lua', 'host', 'cli.js');

/** Lua that fills about `mib` MiB of heap and keeps it alive. */
const heap = (mib: number) => `local heap = {}
for i = 1, ${mib * 1024} do heap[i] = string.rep("x", 1000) .. i end`;

/** Where the script forks: at the top of the chunk, or inside a string.gsub callback (a C frame below it). */
type Site = 'top' | 'gsub';

function wasmScript(mib: number, threads: number, forks: number, site: Site = 'top'): string {
  const fork = site === 'top' ? 'os.fork()' : '(function() local p; ("x"):gsub("x", function() p = os.fork() end); return p end)()';
  return `${heap(mib)}
local stop, spinners = false, {}
for k = 1, ${threads} do spinners[k] = thread.start(function() local n = 0; while not stop do n = n + 1 end; return n end) end
for i = 1, ${forks} do
  print("F")
  local pid = ${fork}
  if pid == 0 then os.exit(0) end
  assert(os.waitpid(pid) == 0)
  print("W")
end
stop = true
for k = 1, ${threads} do spinners[k]:join() end`;
}

/** Round trips (ms) of one wasm run: the gaps between each "F" line and the "W" after it. */
function wasmRun(script: string, env: Record<string, string> = {}): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const trips: number[] = [];
    let pending = '';
    let started = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      const now = performance.now();
      pending += d.toString('latin1');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === 'F') started = now;
        else if (line === 'W') trips.push(now - started);
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`wasm-threads-lua fork bench: status ${status}: ${err}`));
      else resolve(trips);
    });
  });
}

/** The native helper module, built against the Debian source's headers; undefined when that is not possible. */
function nativeHelper(dir: string): string | undefined {
  const ver = fs.readFileSync(path.join(ROOT, 'build', 'lua-src', 'current'), 'utf8').trim();
  const include = path.join(ROOT, 'build', 'lua-src', `lua5.4-${ver}`, 'src');
  const so = path.join(dir, 'bench_fork.so');
  // Debian's luaconf.h names the multiarch triplet through a header of its build
  const triplet = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(dir, 'lua5.4-deb-multiarch.h'), `#define DEB_HOST_MULTIARCH ${JSON.stringify(triplet)}\n`);
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', `-I${dir}`, `-I${include}`, path.join(ROOT, 'scripts', 'bench-lua-fork-native.c'), '-o', so]);
  return so;
}

function nativeRun(so: string, mib: number, forks: number): number[] {
  const script = `local p = package.loadlib(${JSON.stringify(so)}, "luaopen_bench_fork")()
${heap(mib)}
for i = 1, ${forks} do
  local t0 = p.now_ms()
  local pid = p.fork()
  if pid == 0 then p._exit(0) end
  assert(p.wait(pid) == 0)
  io.write(string.format("%.4f\\n", p.now_ms() - t0))
end`;
  const r = spawnSync('lua5.4', ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`lua5.4 fork bench: status ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map(Number);
}

function summary(ms: number[]): { n: number; p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number } {
  const s = [...ms].sort((a, b) => a - b);
  const p = (q: number) => +percentile(s, q).toFixed(3);
  return { n: s.length, p50_ms: p(50), p90_ms: p(90), p99_ms: p(99), max_ms: +s[s.length - 1].toFixed(3) };
}

/**
 * The fork-anywhere build (WASM_THREADS_LUA_FORK=anywhere) forking at the top of the chunk and under a string.gsub
 * callback, alternating runs of the one build in one run: 0 MiB of heap, no other thread.
 */
export async function benchForkUnderCallback(dir: string, forks: number, warm: number, log: Log): Promise<Record<string, unknown>> {
  if (!fs.existsSync(path.join(ROOT, 'build', 'lua-fork-anywhere.wasm'))) return { skipped: 'build/lua-fork-anywhere.wasm missing (npm run build:lua)' };
  const env = { WASM_THREADS_LUA_FORK: 'anywhere' };
  const trips: Record<Site, number[]> = { top: [], gsub: [] };
  for (const site of ['top', 'gsub', 'top', 'gsub'] as Site[]) {
    const file = path.join(dir, `fork-anywhere-${site}.lua`);
    fs.writeFileSync(file, wasmScript(0, 0, Math.ceil(forks / 2) + warm, site));
    trips[site].push(...(await wasmRun(file, env)).slice(warm));
  }
  const top = summary(trips.top);
  const gsub = summary(trips.gsub);
  log(`lua fork (fork-anywhere build): top p50 ${top.p50_ms} ms, under a gsub callback p50 ${gsub.p50_ms} ms`);
  return { heap_0mib_threads_0: { top, under_gsub_callback: gsub, ratio_p50: +(gsub.p50_ms / top.p50_ms).toFixed(2) } };
}

export async function benchLuaFork(opts: { quick: boolean; log: Log }): Promise<Record<string, unknown>> {
  const forks = opts.quick ? 12 : 30;
  // The first fork starts the fork server and waits for its child (cold, docs/FORK.md): it is reported on its own;
  // every later one is in the figures, whether it found a warm child or waited for one.
  const warm = 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lua-fork-'));
  const out: Record<string, unknown> = { forks_per_case: forks, method: 'wasm: line arrival gaps over a pipe; native: CLOCK_MONOTONIC in the process' };
  try {
    let so: string | undefined;
    try {
      so = nativeHelper(dir);
    } catch (e) {
      out.native_skipped = `the native helper did not build: ${e instanceof Error ? e.message : String(e)}`;
    }
    for (const mib of [0, 4]) {
      const native = so ? summary(nativeRun(so, mib, forks).slice(warm)) : undefined;
      for (const threads of [0, 2]) {
        const file = path.join(dir, `fork-${mib}-${threads}.lua`);
        fs.writeFileSync(file, wasmScript(mib, threads, forks + warm));
        const all = await wasmRun(file);
        const wasm = { first_fork_ms: +all[0].toFixed(3), ...summary(all.slice(warm)) };
        const key = `heap_${mib}mib_threads_${threads}`;
        const trace = path.join(dir, `trace-${key}`);
        await wasmRun(file, { WASM_THREADS_FORK_TRACE: trace });
        const phases = breakdown(forksOf(fs.readFileSync(trace, 'utf8')).slice(warm + 1));
        out[key] = {
          wasm, native_lua5_4: threads === 0 ? native : undefined, ratio_p50: threads === 0 && native ? +(wasm.p50_ms / native.p50_ms).toFixed(1) : undefined,
          traced: { forks: phases.forks, round_trip_p50_ms: phases.round_trip_p50_ms, phases: phases.phases.map(({ what: _, ...p }) => p) },
        };
        opts.log(`lua fork ${key}: p50 ${wasm.p50_ms} ms${threads === 0 && native ? ` (native ${native.p50_ms} ms)` : ''}`);
      }
    }
    out.fork_anywhere_build = await benchForkUnderCallback(dir, forks, warm, opts.log);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
