// The child's side of os.fork, platform-neutral: the body of the fork
// subsystem's continuation module (fork-continuation.ts under Node,
// browser-fork-continuation.ts in a page). After the runtime has adopted the
// forking thread (after_fork_child: only its slot lives, every lock
// released), the hook rebuilds that thread's Lua instance over the copy — its
// stack pointer fresh at the top of its stack (no VM frame was live at the
// fork), its TLS block as it was (__tls_base set; __wasm_init_tls would reset
// it), its core handle and the GIL its own (gil.c's lwtc_core_adopt) — and the
// continuation resumes the forking coroutine with 0 (lfork.c's lwtc_fork_child).
// A fork under a C callback (data.frames) instead rewinds the export the
// forking thread was running, over the unwound frames in the copy
// (host/c-fork.ts): its os.fork returns 0 there.
import type { CoreExports } from '../../../host/core.js';
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { LuaInstanceKeeper, instantiateLuaOn, type InstantiateOptions, type LuaThread } from './loader.js';
import { WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { luaForkImports, type LuaForkData, type LuaForkView } from './fork.js';

/** What the fork subsystem passes a continuation (host/node/fork-child.ts, host/browser/fork-child.ts). */
export interface LuaForkChildContext { runtime: Runtime; thread: RegisteredThread; data: LuaForkData }

export interface LuaForkContinuation {
  /**
   * Before a child's snapshot arrives (a pooled child): lua.wasm instantiated over its memory and core, its
   * imports bound once the child's own are known, so the fork's path does not pay for it.
   */
  prepare(ctx: { memory: WebAssembly.Memory; core: CoreExports }): Promise<void>;
  afterForkChild(ctx: LuaForkChildContext): Promise<void>;
  resume(ctx: LuaForkChildContext): number;
  /** The child's program ended: its files closed, its instance dropped, so its carrier can serve the next child. */
  recycle(): void;
}

/** The continuation of a Lua fork child over `luaModule`, with the platform's WASI. */
export function luaForkContinuation(luaModule: WebAssembly.Module, wasi: (args: string[]) => WasiOptions): LuaForkContinuation {
  let child: LuaThread | undefined;
  // the instance prepare made for the next child
  let prepared: LuaInstanceKeeper | undefined;
  return {
    async prepare({ memory, core }) {
      // Its start function writes lua.wasm's data into this memory (the flag that says so is zero here): the
      // restore overwrites it with the parent's. Placed and given its imports by afterForkChild.
      prepared = new LuaInstanceKeeper();
      await prepared.instantiate(luaModule, core, memory, {
        placement: { kind: 'adopt', stackPointer: 0, tlsBase: 0 }, wasi: wasi([]), imports: { env: { lwtc_spawn: () => -1 } },
      });
    },
    async afterForkChild({ runtime, thread, data }) {
      const { args } = data.process as { args: string[] };
      const view = (): LuaForkView => ({ memory: runtime.memory, lua: child!.lua, stackTop: data.stackTop });
      // the child forks again through its own runtime; thread.start is not available in a child
      const fork = luaForkImports(() => runtime, view, () => data.process);
      const opts: InstantiateOptions = {
        // under a callback, below every unwound frame until the rewind (host/c-fork.ts): lwtc_core_adopt runs first
        placement: { kind: 'adopt', stackPointer: data.frames?.stackPointer ?? data.stackTop, tlsBase: data.tlsBase },
        wasi: wasi(args),
        imports: { lua_fork: fork.imports, env: { lwtc_spawn: () => -1 } },
        cfork: fork.cfork,
      };
      // the prepared instance when it was made over this child's memory and core (it is: the same child)
      child = prepared ? await prepared.instantiate(luaModule, thread.core, runtime.memory, opts) : await instantiateLuaOn(luaModule, thread.core, runtime.memory, opts);
      prepared = undefined;
      (child.lua.lwtc_core_adopt as (h: number) => void)(thread.handle);
    },
    resume({ data }) {
      const lua = child!.lua as Record<string, unknown>;
      try {
        if (!data.frames) {
          child!.cfork!.call('lwtc_fork_child', data.co, data.from);
        } else {
          child!.cfork!.resume(data.frames);
          // a thread's function returned in the child (lua.c's main ends the process itself)
          if (data.frames.entry === 'lwtc_thread_entry') (lua.lwtc_fork_thread_end as (t: number) => void)(data.frames.args[0]);
        }
        return 0;
      } catch (e) {
        if (e instanceof WasiExit) return e.code;
        throw e;
      }
    },
    recycle() {
      child?.wasi.closeAll();
      child = undefined;
      prepared = undefined;
    },
  };
}
