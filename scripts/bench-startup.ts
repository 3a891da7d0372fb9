// Bench section "startup": what a program pays before it does anything —
// `wasm-threads-lua -e ''` (a whole command: node, the core, lua.wasm, lua.c's
// main on its worker, exit) beside `lua5.4 -e ''` and a bare `node -e 0`, and
// createRuntime({ threads: 2 }) + close() in this process beside two bare Node
// workers started and terminated (the floor of any runtime with two threads).
// Nothing of fork is started by either (docs/FORK.md, "Paying for fork only
// when forking").
// `tiering`: each VM command's start-up and a loop's time in the tiering the
// command chooses (its loop compiled by TurboFan up front, the rest in Liftoff
// first: host/node/engine.ts) beside `--no-liftoff` (every function compiled by
// TurboFan at its first call), alternated in the same run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../host/node/index.js';
import { median, percentile, round } from './stats-util.js';
import { luaWasmPath } from '../vms/lua/host/node-build.js';
import { pythonWasmPath } from '../vms/python/host/node-build.js';

const CLI = fileURLToPath(new URL('../vms/lua/host/cli.js', import.meta.url));
const IDLE = new URL('./jobs/idle.js', import.meta.url);
const PYTHON_CLI = fileURLToPath(new URL('../vms/python/host/cli.js', import.meta.url));

/** Per VM command: its empty program, and a loop that prints its own ms (the command's start-up left out). */
const TIERING_RUNS: Record<string, { cli: string; wasm: string; empty: string[]; loop: string[] }> = {
  lua: {
    cli: CLI, wasm: luaWasmPath({}), empty: ['-e', ''],
    loop: ['-e', 'local t = os.clock(); local s = 0; for i = 1, 2e7 do s = s + i % 7 end; '
      + 'local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end; fib(27); '
      + 'print(string.format("%.1f", (os.clock() - t) * 1000))'],
  },
  python: {
    cli: PYTHON_CLI, wasm: pythonWasmPath({}), empty: ['-c', 'pass'],
    loop: ['-c', 'import time\nt = time.perf_counter()\ns = 0\nfor i in range(3000000): s += i % 7\n'
      + 'def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(24)\nprint("%.1f" % ((time.perf_counter() - t) * 1000))'],
  },
};

/** Start-up wall and loop ms of each VM command, its own tiering and --no-liftoff alternated, `n` runs of each. */
function tiering(n: number, log: (s: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [vm, r] of Object.entries(TIERING_RUNS)) {
    if (!fs.existsSync(r.wasm)) { out[vm] = { skipped: `${r.wasm} not built` }; continue; }
    log(`startup: ${vm} command tiering against --no-liftoff ×${n}`);
    const t = { command: { start: [] as number[], loop: [] as number[] }, no_liftoff: { start: [] as number[], loop: [] as number[] } };
    for (let i = 0; i < n; i++) {
      for (const [k, flags] of [['command', []], ['no_liftoff', ['--no-liftoff']]] as const) {
        const t0 = performance.now();
        const empty = spawnSync(process.execPath, [...flags, r.cli, ...r.empty], { stdio: 'ignore' });
        const start = performance.now() - t0;
        const loop = spawnSync(process.execPath, [...flags, r.cli, ...r.loop], { encoding: 'utf8' });
        if (empty.status !== 0 || loop.status !== 0) throw new Error(`${vm} ${k}: status ${empty.status} / ${loop.status}: ${loop.stderr}`);
        t[k].start.push(start);
        t[k].loop.push(Number(loop.stdout.trim()));
      }
    }
    out[vm] = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { start_p50_ms: round(median(v.start), 1), loop_p50_ms: round(median(v.loop), 1) }]));
  }
  return out;
}

/** Wall ms of `cmd args`, `n` runs (one discarded first: the file cache). */
function wall(cmd: string, args: string[], n: number): { p50_ms: number; min_ms: number } | null {
  const t: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.status !== 0) return null;
    if (i > 0) t.push(performance.now() - t0);
  }
  return { p50_ms: round(median(t), 1), min_ms: round(Math.min(...t), 1) };
}

export async function benchStartup(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const n = opts.quick ? 3 : 10;
  opts.log(`startup: wasm-threads-lua -e '' ×${n}`);
  const lua = wall(process.execPath, [CLI, '-e', ''], n);
  const native = wall('lua5.4', ['-e', ''], n);
  const node = wall(process.execPath, ['-e', '0'], n);
  opts.log(`startup: createRuntime({ threads: 2 }) + close() ×${n * 2}`);
  const rt: number[] = [];
  for (let i = 0; i <= n * 2; i++) {
    const t0 = performance.now();
    const r = await createRuntime({ threads: 2, job: IDLE });
    await r.close();
    if (i > 0) rt.push(performance.now() - t0);
  }
  rt.sort((a, b) => a - b);
  const create = { p50_ms: round(median(rt), 1), p99_ms: round(percentile(rt, 99), 1) };
  // the floor under createRuntime's figure: two bare Node workers, each up and answering, then terminated
  const bare: number[] = [];
  for (let i = 0; i <= n * 2; i++) {
    const t0 = performance.now();
    const ws = [0, 1].map(() => new Worker('require("node:worker_threads").parentPort.postMessage(0)', { eval: true }));
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    await Promise.all(ws.map((w) => w.terminate()));
    if (i > 0) bare.push(performance.now() - t0);
  }
  return {
    lua_e_empty: lua, native_lua_e_empty: native, node_e_0: node, create_threads_2_close: create,
    bare_workers_2_close: { p50_ms: round(median(bare), 1) }, tiering: tiering(opts.quick ? 2 : 5, opts.log),
    targets: {
      lua_e_empty_le_150_ms: lua ? lua.p50_ms <= 150 : null,
      create_threads_2_close_le_50_ms: create.p50_ms <= 50,
    },
  };
}
