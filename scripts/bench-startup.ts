// Bench section "startup": what a program pays before it does anything —
// `wasm-threads-lua -e ''` (a whole command: node, the core, lua.wasm, lua.c's
// main on its worker, exit) beside `lua5.4 -e ''` and a bare `node -e 0`, and
// createRuntime({ threads: 2 }) + close() in this process. Nothing of fork is
// started by either (docs/FORK.md, "Paying for fork only when forking").
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../host/node/index.js';
import { median, percentile, round } from './stats-util.js';

const CLI = fileURLToPath(new URL('../vms/lua/host/cli.js', import.meta.url));
const IDLE = new URL('./jobs/idle.js', import.meta.url);

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
  return {
    lua_e_empty: lua, native_lua_e_empty: native, node_e_0: node, create_threads_2_close: create,
    targets: {
      lua_e_empty_le_150_ms: lua ? lua.p50_ms <= 150 : null,
      create_threads_2_close_le_50_ms: create.p50_ms <= 50,
    },
  };
}
