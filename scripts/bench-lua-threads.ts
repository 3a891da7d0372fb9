// Figures of Lua's threads (docs/LUA.md, "Threads"): the GIL's cost on one
// thread (build/lua.wasm against a baseline build without safe points,
// build/lua-nogil.wasm), and with 2 threads running independent loops: the
// switch latency (drop request to the new holder running), each thread's
// share, and the stop-the-world latency. Ratios are taken within one run.
// Alone: `node dist/scripts/bench-lua-threads.js [--quick] [--json]`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyEngineFlags } from '../host/node/engine.js';
import { compileLua } from '../vms/lua/host/loader.js';
import { startNodeLuaProcess } from '../vms/lua/host/node-process.js';
import { captureText, newCapture } from '../vms/posix/host/capture.js';
import { stopLuaWorld } from '../vms/lua/host/threads.js';
import { median, percentile, round } from './stats-util.js';
import { arg, parseArgs } from './args.js';
import { LUA_BENCH_PROGRAMS, wasmRun as runOnce } from './bench-lua.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.join(ROOT, 'build');
const NOGIL = path.join(BUILD, 'lua-nogil.wasm');

/** Builds the baseline (Lua's own lua_lock/luai_threadyield: no GIL, no safe points) when the build script can. */
function buildBaseline(log: (s: string) => void): boolean {
  const script = path.join(ROOT, 'scripts', 'build-lua.mjs');
  if (!fs.readFileSync(script, 'utf8').includes('LUA_OUT')) return fs.existsSync(NOGIL); // a build script without variants
  try {
    execFileSync(process.execPath, [script], {
      cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000,
      env: { ...process.env, LUA_EXTRA_CFLAGS: '-DLWTC_NO_GIL', LUA_OUT: NOGIL },
    });
  } catch (e) {
    log(`lua threads: baseline build failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return fs.existsSync(NOGIL);
}

async function gilCost(quick: boolean, log: (s: string) => void): Promise<Record<string, unknown>> {
  if (!buildBaseline(log)) return { skipped: 'no baseline build (scripts/build-lua.mjs without LUA_EXTRA_CFLAGS/LUA_OUT)' };
  const core = fs.readFileSync(path.join(BUILD, 'core.wasm'));
  const on = await compileLua(core, fs.readFileSync(path.join(BUILD, 'lua.wasm')));
  const off = await compileLua(core, fs.readFileSync(NOGIL));
  const rounds = quick ? 3 : 7;
  const out: Record<string, unknown> = {};
  const ratios: number[] = [];
  for (const [name, program] of Object.entries(LUA_BENCH_PROGRAMS)) {
    const a: number[] = [];
    const b: number[] = [];
    await runOnce(on, program); // compile tiers warm
    await runOnce(off, program);
    for (let r = 0; r < rounds; r++) { // interleaved, so drift hits both alike
      a.push(await runOnce(on, program));
      b.push(await runOnce(off, program));
    }
    // the median of paired ratios: each pair ran back to back, so a load change between rounds cancels
    const ratio = median(a.map((x, i) => x / b[i]));
    ratios.push(ratio);
    out[name] = { gil_ms: round(Math.min(...a)), nogil_ms: round(Math.min(...b)), ratio: round(ratio, 3) };
    log(`lua threads: ${name}: ${round(Math.min(...a))} ms with the GIL, ${round(Math.min(...b))} ms without (${round(ratio, 3)}x)`);
  }
  out.geomean_ratio = round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length), 3);
  return out;
}

/**
 * `n` threads on independent loops for `seconds`: shares and switch latency; `withStops`: the second half also
 * stops and starts the world every 10 ms (stop latency).
 */
async function busyThreads(n: number, withStops: boolean, quick: boolean, log: (s: string) => void): Promise<Record<string, unknown>> {
  const seconds = quick ? 1 : 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lua-threads-'));
  const file = path.join(dir, 'two.lua');
  const release = path.join(dir, 'release');
  fs.writeFileSync(file, `
    local counts, stop, ts = {}, false, {}
    for k = 1, ${n} do
      ts[k] = thread.start(function() local c = 0; while not stop do c = c + 1 end; counts[k] = c end)
    end
    io.stderr:write("running\\n")
    local f
    repeat thread.sleep(0.005); f = io.open(${JSON.stringify(release)}) until f
    f:close()
    stop = true
    for k = 1, ${n} do ts[k]:join() end
    print(table.concat(counts, "\\t"))`);
  const capture = newCapture();
  const p = await startNodeLuaProcess(['lua', file], { capture });
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + 20_000;
  while (!captureText(capture).includes('running')) {
    if (performance.now() > end) throw new Error('the threads did not start');
    await new Promise((r) => setTimeout(r, 2));
  }
  Atomics.wait(wait, 0, 0, withStops ? seconds * 1000 / 2 : seconds * 1000); // undisturbed
  const lua = p.host.lua as unknown as Record<string, () => number>;
  const before = lua.lwtc_gil_latency_count();
  const stops: number[] = [];
  const stopUntil = performance.now() + seconds * 1000 / 2;
  while (withStops && performance.now() < stopUntil) {
    const t0 = performance.now();
    stopLuaWorld(p.host.lua, p.rt.main, 5000);
    stops.push((performance.now() - t0) * 1000);
    p.rt.startTheWorld();
    Atomics.wait(wait, 0, 0, 10);
  }
  const switched = lua.lwtc_gil_latency_count();
  fs.writeFileSync(release, '');
  const status = await p.status;
  fs.rmSync(dir, { recursive: true, force: true });
  const counts = captureText(capture).trim().split('\n').pop()!.split('\t').map(Number);
  if (status !== 0 || counts.length !== n || !counts.every((c) => c > 0)) throw new Error(`${n} threads: status ${status}: ${captureText(capture)}`);
  const ring = new Int32Array(p.rt.memory.buffer, lua.lwtc_gil_latencies(), 1024);
  const lat = Array.from(ring.subarray(0, Math.min(switched, 1024))).sort((a, b) => a - b);
  stops.sort((a, b) => a - b);
  const total = counts.reduce((a, b) => a + b, 0);
  const share = counts.map((c) => c / total);
  const res = {
    threads: n, seconds, switches: switched, switches_during_stops: switched - before,
    switch_latency_p50_us: percentile(lat, 50), switch_latency_p99_us: percentile(lat, 99),
    share: share.map((s) => round(s, 3)),
    /** the largest departure of a thread's share from 1/n, relative to 1/n */
    fairness_max_dev: round(Math.max(...share.map((s) => Math.abs(s * n - 1))), 3),
    ...(withStops ? { stw_stops: stops.length, stw_p50_us: round(median(stops), 1), stw_p99_us: round(percentile(stops, 99), 1) } : {}),
  };
  log(`lua threads: ${n} threads: shares ${res.share.join(' / ')}, switch p50 ${res.switch_latency_p50_us} us p99 ${res.switch_latency_p99_us} us, ${withStops ? `stop p50 ${median(stops).toFixed(1)} us (${stops.length} stops)` : ''}`);
  return res;
}

/** The `lua` bench section's threads part. */
export async function benchLuaThreads(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const gil = await gilCost(opts.quick, opts.log);
  const two = await busyThreads(2, false, opts.quick, opts.log);
  const four = await busyThreads(4, false, opts.quick, opts.log);
  const stw = await busyThreads(2, true, opts.quick, opts.log);
  const geo = (gil as { geomean_ratio?: number }).geomean_ratio;
  return {
    gil_vs_nogil: gil,
    two_threads: two,
    four_threads: four,
    /** 2 threads running while the host stops and starts the world every 10 ms */
    two_threads_stw: stw,
    targets: {
      gil_le_1_05x: geo === undefined ? null : geo <= 1.05,
      fair_within_10_pct: (two.fairness_max_dev as number) <= 0.1 && (four.fairness_max_dev as number) <= 0.1,
    },
  };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  applyEngineFlags('vm');
  const args = parseArgs(process.argv.slice(2), {
    json: arg(false, 'print the result as one line of JSON'), quick: arg(false, 'fewer iterations'),
  }, 'node dist/scripts/bench-lua-threads.js', 'Lua threads on workers against native Lua');
  const log = (s: string): void => { if (!args.json) process.stderr.write(s + '\n'); };
  const r = await benchLuaThreads({ quick: args.quick, log });
  process.stdout.write(JSON.stringify(r, null, args.json ? 0 : 2) + '\n');
}
