// The host side of os.fork, os.waitpid and os.getpid (vms/lua/src/lfork.c):
// the `lua_fork` imports of a Lua thread's instance, on the project's fork
// subsystem (host/fork). Platform-neutral.
//
// lfork.c calls `fork` from its driver loop once the forking coroutine has
// yielded out of every VM frame; this thread's RegisteredThread forks (the
// world stopped only for the copy), and the child — a process under Node, an
// in-page worker in a browser — runs the continuation, which (fork-child.ts)
// rebuilds this thread's instance over the copy and resumes the coroutine
// with 0 (lwtc_fork_child). Under a C function's callback lfork.c calls
// `fork_here` instead: the fork-anywhere build unwinds every frame to the
// thread's export and rewinds it in both processes (host/c-fork.ts).
import {
  ChildProcessError, ForkRefusedError, type ForkConfig, type ForkOptions, type ForkOutcome, type ForkPhase, type WaitpidOptions,
} from '../../../host/index.js';
import { CForkThread, WASI_ERRNO, type CForkFrames } from '../../../host/c-fork.js';
import type { LuaExports } from './lua-exports.js';

// errno as lua.wasm's libc (wasi-libc) numbers it, like the WASI shim's
const { EAGAIN, ECHILD, ENOMEM, EINVAL, ENOSYS } = WASI_ERRNO;
/**
 * The hand-off's deadline of a Lua fork (ForkOptions.ackTimeoutMs; the subsystem's default is 10 s): a process's
 * fork should not fail because the machine is busy (a cold child starting Node and compiling lua.wasm on two
 * loaded cores took longer than 10 s); a child that never acknowledges still fails the fork, after a minute.
 */
const LUA_FORK_ACK_TIMEOUT_MS = 60_000;

/** waitpid's "still running" (nohang); every other negative result is -errno. */
const RUNNING = -1;

/** What the child needs to continue the forking thread (ForkOptions.data: JSON, ≤ 1 KiB). */
export interface LuaForkData {
  /** The forking root coroutine and the state it was resumed from (lfork.c's drive). */
  co: number;
  from: number;
  /** The child's stack pointer: the top of the forking thread's stack, fresh (no VM frame is live at the fork). */
  stackTop: number;
  /** The forking thread's TLS block, set as __tls_base (never __wasm_init_tls: it would reset the block). */
  tlsBase: number;
  /** What the child's continuation needs to rebuild this thread's WASI (the loader's description). */
  process: unknown;
  /** A fork under a callback (fork_here): the thread's unwound frames, which the child rewinds. */
  frames?: CForkFrames;
}

// The child's WASI needs argv[0] only (lfork.c's messages): lua.c has turned the
// rest into `arg`, which the copied heap holds; a long `-e` script would not
// fit ForkOptions.data.
function forChild(process: unknown): unknown {
  const p = process as { args?: unknown } | null;
  return p && Array.isArray(p.args) ? { ...p, args: p.args.slice(0, 1) } : process;
}

/** One Lua thread's instance, as the fork imports see it. */
export interface LuaForkView {
  memory: WebAssembly.Memory;
  lua: LuaExports;
  /** The top of this thread's C stack; absent: the stack pointer at the fork (every live frame stays above it). */
  stackTop?: number;
}

/**
 * The fork settings of a Lua process's runtime (createRuntime({ fork })): the
 * Node continuation by default. `pool` warm children (default 1) make a fork a
 * hand-off instead of a process start.
 */
export function luaForkConfig(opts: { continuation?: URL; pool?: number } = {}): ForkConfig {
  return { continuation: opts.continuation ?? new URL('./fork-continuation.js', import.meta.url), pool: opts.pool ?? 1 };
}

/**
 * This process's pid as os.getpid() reports it: the OS pid under Node (what
 * fork returned in the parent); 1 in a page, whose in-page children are not
 * told theirs by the fork subsystem.
 */
const ownPid: number = (globalThis as { process?: { pid?: number } }).process?.pid ?? 1;

/**
 * Who forks for a Lua thread: its registration (a job's ctx), or in a fork
 * child the child's runtime (its main thread is the forking thread; its fork
 * service starts on the first fork).
 */
export interface LuaForker {
  readonly handle: number;
  fork(opts?: ForkOptions): ForkOutcome;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
}

/** The `lua_fork` imports of one thread's instance and the fork-from-any-depth driver behind `fork_here`. */
export interface LuaForkImports {
  imports: Record<string, (...args: number[]) => number>;
  /** Bind it to the instance (instantiateLuaOn's `cfork`) and run the thread's export through it. */
  cfork: CForkThread;
}

const forkErrno = (e: unknown): number => (e instanceof ForkRefusedError ? EAGAIN : ENOMEM);

/**
 * The `lua_fork` import object of one thread's instance. `thread` is that
 * thread's forker (a job's ctx, rt.main; a child's runtime); `view` its instance (bound
 * late: the imports exist before the instance); `describe` the loader's
 * description of the process for the child.
 */
export function luaForkImports(
  thread: () => LuaForker, view: () => LuaForkView, describe: () => unknown = () => null,
): LuaForkImports {
  let lastError = '';
  const fail = (e: unknown, errno: number): number => {
    lastError = e instanceof Error ? e.message : String(e);
    return -errno;
  };
  const here = (v: LuaForkView) => ({ stackTop: v.stackTop ?? (v.lua.__stack_pointer.value as number), tlsBase: v.lua.__tls_base.value as number });
  // Throws what the fork threw; the pid otherwise.
  const forkWith = (data: LuaForkData): number => {
    const t = thread();
    // The threads library's interrupt from just before the stop until it returns: a thread in a loop that
    // never allocates reaches a safe point too (gil.c, lwtc_interrupt).
    const interrupt = view().lua.lwtc_interrupt as ((h: number, on: number) => number) | undefined;
    let armed = false;
    const disarm = () => {
      if (armed) interrupt!(t.handle, 0);
      armed = false;
    };
    const probe = interrupt && ((phase: ForkPhase) => {
      if (phase === 'locked') {
        interrupt(t.handle, 1);
        armed = true;
      } else if (phase === 'stopped') disarm();
    });
    try {
      return t.fork({ data, probe, ackTimeoutMs: LUA_FORK_ACK_TIMEOUT_MS }).pid;
    } finally {
      disarm();
    }
  };
  const cfork = new CForkThread(() => view().memory,
    (frames) => forkWith({ co: 0, from: 0, ...here(view()), process: forChild(describe()), frames }), forkErrno);
  const imports = {
    fork(co: number, from: number): number {
      let data: LuaForkData;
      try {
        data = { co, from, ...here(view()), process: forChild(describe()) };
      } catch (e) {
        return fail(e, EINVAL);
      }
      try {
        return forkWith(data);
      } catch (e) {
        return fail(e, forkErrno(e));
      }
    },
    fork_here(data: number, size: number): number {
      const r = cfork.forkImport(data, size);
      if (r < 0) lastError = cfork.lastError;
      return r;
    },
    waitpid(pid: number, nohang: number): number {
      try {
        const status = thread().waitpid(pid, { noHang: nohang !== 0 });
        return status === undefined ? RUNNING : status;
      } catch (e) {
        return fail(e, e instanceof ChildProcessError ? ECHILD : EINVAL);
      }
    },
    getpid(): number {
      return ownPid;
    },
    error(buf: number, len: number): number {
      const bytes = new TextEncoder().encode(lastError);
      const n = Math.min(bytes.length, len);
      new Uint8Array(view().memory.buffer, buf, n).set(bytes.subarray(0, n));
      return n;
    },
  };
  return { imports, cfork };
}

/** The `lua_fork` imports of an instance that cannot fork (no runtime thread): os.fork returns nil, message, ENOSYS. */
export function luaNoForkImports(memory: () => WebAssembly.Memory): Record<string, (...args: number[]) => number> {
  const why = new TextEncoder().encode('this Lua process was started without fork support');
  return {
    fork: () => -ENOSYS,
    fork_here: () => -ENOSYS,
    waitpid: () => -ECHILD,
    getpid: () => ownPid,
    error(buf: number, len: number): number {
      const n = Math.min(why.length, len);
      new Uint8Array(memory().buffer, buf, n).set(why.subarray(0, n));
      return n;
    },
  };
}
