// The job of every Lua thread (threads.ts), platform-neutral: lua.wasm over
// the process's memory on this worker's area, the C side told the handle the
// runtime registered, then lua.c's main (role 'command') or one thread.start
// (role 'thread'). exit() on any thread ends the process: the status goes to
// the exit cell the host waits on. The platform gives the WASI options (its
// stdio and files); a platform's job module (thread-worker.ts for Node) is one
// line around this.
import type { ThreadContext } from '../../../host/worker.js';
import { LuaInstanceKeeper, runCommand, type LuaThread } from './loader.js';
import { WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { luaForkImports } from './fork.js';
import { appendCapture, recordExit, threadImports, type LuaJobData } from './threads.js';

// A pooled worker runs one process's threads one after another, each on the
// worker's one core instance: its lua.wasm instance serves them all (loader.ts).
const keeper = new LuaInstanceKeeper();

export async function runLuaThreadJob(ctx: ThreadContext, platformWasi: (args: string[]) => WasiOptions): Promise<number> {
  const d = ctx.data as LuaJobData;
  const { capture } = d;
  const base = { job: d.job, modules: d.modules, args: d.args, exitCell: d.exitCell, capture };
  const wasi = platformWasi(d.args);
  if (capture) wasi.stdout = wasi.stderr = (b) => appendCapture(capture, b);
  const stdin = wasi.stdin;
  let thread: LuaThread | undefined;
  // A read of stdin blocks: the GIL goes to the others meanwhile, and the thread waits detached.
  if (stdin) wasi.stdin = (buf) => {
    const lua = thread!.lua as unknown as Record<string, () => void>;
    lua.lwtc_blocking_begin();
    try { return stdin(buf); } finally { lua.lwtc_blocking_end(); }
  };
  const fork = luaForkImports(() => ctx, () => ({ memory: ctx.memory, lua: thread!.lua, stackTop: thread!.lua.lwtc_area_stack_top(d.area) }),
    () => ({ args: d.args }));
  // The runtime's core instance of this worker: its exports are lua.wasm's "core" imports.
  thread = await keeper.instantiate(d.modules.lua, ctx.core, ctx.memory, {
    placement: { kind: 'area', area: d.area },
    wasi,
    imports: { env: threadImports(ctx.memory, base, (job, data) => ctx.spawn(job, data)), lua_fork: fork.imports },
    cfork: fork.cfork,
  });
  const lua = thread.lua as typeof thread.lua & Record<string, (...a: number[]) => number>;
  lua.lwtc_set_core_self(ctx.handle);
  if (d.role === 'command') {
    const { status } = runCommand(thread, (b) => wasi.stderr(b));
    recordExit(d.exitCell, status);
    return status;
  }
  try {
    return fork.cfork.call('lwtc_thread_entry', d.ticket!) as number;
  } catch (e) {
    if (!(e instanceof WasiExit)) throw e;
    recordExit(d.exitCell, e.code); // os.exit or a fatal error on this thread ends the process
    return e.code;
  }
}
