// The child's side of wtp_fork, platform-neutral: the body of the fork
// subsystem's continuation module (fork-continuation.ts under Node). After
// the runtime has adopted the forking thread (after_fork_child: only its slot
// lives, every core lock released), the hook instantiates the program over
// the copy on the forking thread's stack (fresh: no frame lives on) and TLS
// block (as it was), and the layer resets libc's locks and its thread
// bookkeeping (wtp_after_fork_child); the continuation runs wtp_fork_child(arg).
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { posixForkImports, type PosixForkData } from './fork.js';
import { instantiatePosix, ThreadUnwind, type PosixExports } from './process.js';

export interface PosixForkChildContext { runtime: Runtime; thread: RegisteredThread; data: PosixForkData }

export interface PosixForkContinuation {
  afterForkChild(ctx: PosixForkChildContext): Promise<void>;
  resume(ctx: PosixForkChildContext): number;
}

export function posixForkContinuation(load: (url: string) => Promise<WebAssembly.Module>, wasi: (args: string[]) => WasiOptions): PosixForkContinuation {
  let child: PosixExports | undefined;
  return {
    async afterForkChild({ runtime, thread, data }) {
      const program = await load(data.program);
      // The child forks again through its own runtime; it starts no threads (wtp.spawn refuses).
      child = await instantiatePosix(program, thread.core, runtime.memory, new Wasi(wasi(data.args)), {
        wtp: { spawn: () => -1, unwind: () => { throw new ThreadUnwind(); } },
        wtp_fork: posixForkImports(() => runtime, () => ({ program: child!, stackTop: data.stackTop }), () => ({ program: data.program, args: data.args })),
      }, { kind: 'adopt', stackPointer: data.stackTop, tlsBase: data.tlsBase });
      (child.wtp_after_fork_child as (h: number) => void)(thread.handle);
    },
    resume({ data }) {
      try {
        return (child!.wtp_fork_child as (arg: number) => number)(data.arg) & 0xff;
      } catch (e) {
        if (e instanceof WasiExit) return e.code;
        if (e instanceof ThreadUnwind) return 0; // pthread_exit of the child's only thread: the process ends with it
        throw e;
      }
    },
  };
}
