// Bench section "lua": build/lua.wasm single-threaded against Debian's native
// lua5.4 in the same run (fib, loops, string building, table insert/sort,
// binary-trees, pcall-heavy), the module's size, and the threads and fork
// figures of their own files (LUA_SUBSECTIONS), so that
// `npm run bench -- --only lua` prints one JSON.
// Alone: `node dist/scripts/bench-lua.js [--quick] [--json]`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyEngineFlags } from '../host/node/engine.js';
import { gzipSync } from 'node:zlib';
import { CForkThread, WASI_ERRNO } from '../host/c-fork.js';
import { posixNoForkImports } from '../vms/posix/host/fork.js';
import { compileLua, createLuaMemory, instantiateLua, runCommand, type LuaModules } from '../vms/lua/host/loader.js';
import { median, round } from './stats-util.js';
import { arg, parseArgs } from './args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.join(ROOT, 'build');

/**
 * The single-thread set: each program does a fixed amount of work and checks its result (a wrong answer fails
 * the benchmark instead of timing it). Sized for ~0.1–0.3 s under native lua5.4.
 */
export const LUA_BENCH_PROGRAMS: Record<string, string> = {
  fib: 'local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end; assert(fib(30) == 832040)',
  loops: 'local x = 0; for i = 1, 20000000 do x = x + i % 7 end; assert(x == 60000003)',
  strings: `local t = {}; for i = 1, 200000 do t[#t+1] = tostring(i) .. "," end
    local s = table.concat(t); local n = 0; for _ in s:gmatch("%d+") do n = n + 1 end; assert(n == 200000)
    local b = ""; for i = 1, 8000 do b = b .. "x" end; assert(#b == 8000)
    local f = {}; for i = 1, 100000 do f[i] = string.format("%d:%.3f", i, i / 7) end; assert(#table.concat(f) > 0)`,
  tables: `local t = {}; for i = 1, 300000 do table.insert(t, (i * 7919) % 100003) end; table.sort(t)
    for i = 2, #t do assert(t[i-1] <= t[i]) end
    local u = {}; for i = 1, 100000 do u[#u+1] = tostring(i) end; table.sort(u, function(a, b) return a > b end); assert(u[1] == "99999")`,
  binary_trees: `local function make(d) if d == 0 then return {} end return {make(d-1), make(d-1)} end
    local function check(t) if t[1] then return 1 + check(t[1]) + check(t[2]) end return 1 end
    local n = 0; for i = 1, 10 do n = n + check(make(15)) end; assert(n == 10 * 65535)`,
  pcall: `local n = 0; for i = 1, 300000 do if not pcall(error, "x") then n = n + 1 end end
    for i = 1, 300000 do if pcall(math.abs, -1) then n = n + 1 end end; assert(n == 600000)`,
};

/** Figures of other files appended under their names: module path (relative to this one) and export. */
export const LUA_SUBSECTIONS: Record<string, { module: string; fn: string }> = {
  /** GIL and safe points on/off, switch latency, shares, stop-the-world with Lua threads (the threads library). */
  threads: { module: './bench-lua-threads.js', fn: 'benchLuaThreads' },
  /** fork round trips beside native (the fork library). */
  fork: { module: './bench-lua-fork.js', fn: 'benchLuaFork' },
  /** thread.start to the function's first instruction beside native pthread_create, and an idle pool's CPU. */
  thread_start: { module: './bench-lua-thread-start.js', fn: 'benchLuaThreadStart' },
};

type Log = (s: string) => void;

/** One run of `lua -e program` on `modules` (build/lua.wasm or a variant) on this thread (no runtime, no workers), in ms. */
export async function wasmRun(modules: LuaModules, program: string): Promise<number> {
  const sink = (): void => {};
  const errors: Uint8Array[] = [];
  const thread = await instantiateLua(modules, createLuaMemory(), {
    wasi: { args: ['lua', '-e', program], stdout: sink, stderr: (b) => errors.push(b) },
  });
  const t0 = performance.now();
  const { status } = runCommand(thread, sink);
  const ms = performance.now() - t0;
  if (status !== 0) throw new Error(`lua.wasm -e ${program.slice(0, 30)}…: status ${status}: ${Buffer.concat(errors).toString()}`);
  return ms;
}

/** One run of native `lua5.4 -e program`, wall time of the process in ms. */
function nativeRun(program: string): number {
  const t0 = performance.now();
  const r = spawnSync('lua5.4', ['-e', program], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`lua5.4 -e ${program.slice(0, 30)}…: status ${r.status}: ${r.stderr}`);
  return ms;
}

export async function benchLuaSingleThread(quick: boolean, log: Log): Promise<Record<string, unknown>> {
  const modules = await compileLua(fs.readFileSync(path.join(BUILD, 'core.wasm')), fs.readFileSync(path.join(BUILD, 'lua.wasm')));
  const reps = quick ? 3 : 5;
  // A process's start and exit, taken off the native figures; lua.wasm's instantiation is outside its timing.
  const startup = median(Array.from({ length: reps * 2 }, () => nativeRun('')));
  await wasmRun(modules, LUA_BENCH_PROGRAMS.fib); // V8 tier-up and caches, once
  const rows: Record<string, { native_ms: number; wasm_ms: number; ratio: number }> = {};
  for (const [name, program] of Object.entries(LUA_BENCH_PROGRAMS)) {
    const native: number[] = [];
    const wasm: number[] = [];
    for (let i = 0; i < reps; i++) { // interleaved: both see the same machine load
      native.push(Math.max(0.01, nativeRun(program) - startup));
      wasm.push(await wasmRun(modules, program));
    }
    const row = { native_ms: round(median(native), 1), wasm_ms: round(median(wasm), 1), ratio: round(median(wasm) / median(native)) };
    rows[name] = row;
    log(`lua ${name}: native ${row.native_ms} ms, lua.wasm ${row.wasm_ms} ms (${row.ratio}x)`);
  }
  const ratios = Object.entries(rows).filter(([n]) => n !== 'pcall').map(([, r]) => r.ratio);
  const geomean = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  return { native_startup_ms: round(startup, 1), reps, programs: rows, geomean_ratio_without_pcall: round(geomean) };
}

/**
 * The fork-anywhere build (os.fork under C callbacks: asyncify over every function on a path to the fork) against
 * the default build on the same set, interleaved in one run: the budget is a geomean ratio ≤ 1.3 (docs/LUA.md).
 */
export async function benchLuaForkAnywhere(quick: boolean, log: Log): Promise<Record<string, unknown>> {
  const file = path.join(BUILD, 'lua-fork-anywhere.wasm');
  if (!fs.existsSync(file)) return { skipped: 'build/lua-fork-anywhere.wasm missing (npm run build:lua)' };
  const core = fs.readFileSync(path.join(BUILD, 'core.wasm'));
  const builds = { default: await compileLua(core, fs.readFileSync(path.join(BUILD, 'lua.wasm'))), anywhere: await compileLua(core, fs.readFileSync(file)) };
  const reps = quick ? 3 : 5;
  for (const m of Object.values(builds)) await wasmRun(m, LUA_BENCH_PROGRAMS.fib);
  const rows: Record<string, { default_ms: number; fork_anywhere_ms: number; ratio: number }> = {};
  for (const [name, program] of Object.entries(LUA_BENCH_PROGRAMS)) {
    const t = { default: [] as number[], anywhere: [] as number[] };
    for (let i = 0; i < reps; i++) for (const b of ['default', 'anywhere'] as const) t[b].push(await wasmRun(builds[b], program));
    rows[name] = { default_ms: round(median(t.default), 1), fork_anywhere_ms: round(median(t.anywhere), 1), ratio: round(median(t.anywhere) / median(t.default)) };
    log(`lua fork-anywhere ${name}: default ${rows[name].default_ms} ms, fork-anywhere ${rows[name].fork_anywhere_ms} ms (${rows[name].ratio}x)`);
  }
  const ratios = Object.values(rows).map((r) => r.ratio);
  const geomean = round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length));
  const unwind = await forkPathCost(builds.anywhere, quick ? 2000 : 10000);
  log(`lua fork-anywhere: the forking thread's own cost per fork without a child: top ${unwind.top_us} µs, under gsub ${unwind.under_gsub_us} µs`);
  return {
    reps, programs: rows, geomean_ratio: geomean, lua_fork_anywhere_wasm_bytes: fs.statSync(file).size, fork_path_without_child: unwind,
    target_le_1_3x: geomean <= 1.3,
  };
}

/**
 * What a fork under a callback adds in the forking thread, without a child: os.fork answered by a fork that
 * returns a pid at once, at the top of the chunk (the yield to the driver loop) and under a string.gsub callback
 * (asyncify's unwind to the thread's export and rewind), µs per fork on the fork-anywhere build.
 */
export async function forkPathCost(modules: LuaModules, n: number): Promise<Record<string, number>> {
  const memory = createLuaMemory();
  const cfork = new CForkThread(() => memory, () => 1, () => WASI_ERRNO.ENOMEM);
  const program = `local top, under = os.fork, function() local p; ("x"):gsub("x", function() p = os.fork() end); return p end
    for _, f in ipairs({ top, under, top, under }) do
      local t0 = os.clock(); for i = 1, ${n} do assert(f() == 1) end; io.write(string.format("%.3f ", (os.clock() - t0) * 1e6 / ${n}))
    end`;
  let out = '';
  const thread = await instantiateLua(modules, memory, {
    wasi: { args: ['lua', '-e', program], stdout: (b) => { out += Buffer.from(b).toString(); }, stderr: (b) => { out += Buffer.from(b).toString(); } },
    fork: { ...posixNoForkImports(), fork: () => 1, fork_here: cfork.forkImport, getpid: () => 1 },
    cfork,
  });
  if (runCommand(thread, () => {}).status !== 0) throw new Error(`fork path cost: ${out}`);
  const [, , top, under] = out.trim().split(/\s+/).map(Number); // the second pass of each, warm
  return { top_us: top, under_gsub_us: under };
}

function size(): Record<string, number> {
  const bytes = fs.readFileSync(path.join(BUILD, 'lua.wasm'));
  return { lua_wasm_bytes: bytes.length, lua_wasm_gzip_bytes: gzipSync(bytes, { level: 9 }).length };
}

export async function benchLua(opts: { quick: boolean; log: Log }): Promise<Record<string, unknown>> {
  if (!fs.existsSync(path.join(BUILD, 'lua.wasm'))) return { skipped: 'build/lua.wasm missing (npm run build:lua)' };
  if (spawnSync('lua5.4', ['-v']).status !== 0) return { skipped: 'lua5.4 missing' };
  const single = await benchLuaSingleThread(opts.quick, opts.log);
  const out: Record<string, unknown> = { single_thread: single, size: size(), fork_anywhere: await benchLuaForkAnywhere(opts.quick, opts.log) };
  for (const [name, { module, fn }] of Object.entries(LUA_SUBSECTIONS)) {
    let mod: Record<string, unknown>;
    try {
      mod = await import(module);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') continue; // that library is not in this build
      throw e;
    }
    try {
      out[name] = await (mod[fn] as (o: typeof opts) => Promise<unknown>)(opts);
    } catch (e) { // one library's failed figure must not lose the others'
      out[name] = { error: e instanceof Error ? e.message : String(e) };
      opts.log(`lua ${name}: failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const rows = single.programs as Record<string, { ratio: number }>;
  const nonPcall = Object.entries(rows).filter(([n]) => n !== 'pcall');
  out.targets = {
    single_thread_le_1_5x_native: nonPcall.every(([, r]) => r.ratio <= 1.5),
    pcall_le_3x_native: rows.pcall.ratio <= 3,
    // the fork-anywhere build against the default: over budget it stays the opt-in build (docs/LUA.md "fork")
    fork_anywhere_le_1_3x_default: (out.fork_anywhere as { target_le_1_3x?: boolean }).target_le_1_3x,
  };
  return out;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    json: arg(false, 'print the result as one line of JSON'), quick: arg(false, 'fewer iterations'),
  }, 'node dist/scripts/bench-lua.js', 'Lua on the core against native Lua');
  // lua.c's loop is one call: before any compile (scripts/bench.ts runs this section so too)
  applyEngineFlags('vm');
  const log: Log = (s) => { if (!args.json) process.stderr.write(s + '\n'); };
  const result = await benchLua({ quick: args.quick, log });
  process.stdout.write(JSON.stringify(result, null, args.json ? 0 : 2) + '\n');
}
