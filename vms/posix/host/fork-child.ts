// The child's side of wtp_fork and fork(), platform-neutral: the body of the
// fork subsystem's continuation module (fork-continuation.ts under Node).
// After the runtime has adopted the forking thread (after_fork_child: only its
// slot lives, every core lock released), the hook instantiates the program
// over the copy on the forking thread's stack and TLS block (as it was), and
// the layer resets libc's locks and its thread bookkeeping
// (wtp_after_fork_child). The continuation then runs wtp_fork_child(arg)
// (wtp_fork: no frame lives on, the stack is fresh), or rewinds the export the
// forking thread was running over its unwound frames in the copy (fork():
// host/c-fork.ts), where fork() returns 0. Until that rewind the stack pointer
// stays below every unwound frame, so the reset's own frames leave them alone.
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { posixForkImports, rootIdentity, type PosixFork, type PosixForkData, type PosixForkPrepareData } from './fork.js';
import { instantiatePosix, posixImports, ThreadUnwind, type PosixExports } from './process.js';

/** `pid`: the child's, as fork returned it (absent where the platform does not say: a page). */
export interface PosixForkChildContext { runtime: Runtime; thread: RegisteredThread; data: PosixForkData; pid?: number }

export interface PosixForkContinuation {
  /** A warm child compiles the program it will run (the parent's, prepareData.program) before any fork reaches it. */
  prepare(ctx: { data?: unknown }): Promise<void>;
  afterForkChild(ctx: PosixForkChildContext): Promise<void>;
  resume(ctx: PosixForkChildContext): number;
  /** The child's program ended: its files closed, its instance dropped, so its carrier can serve the next child. */
  recycle(): void;
}

/**
 * `load` compiles the program, `wasi` makes its WASI options, `job` is the job module of the threads the child starts
 * (thread-worker.ts under Node: the root process's own).
 */
export function posixForkContinuation(load: (url: string) => Promise<WebAssembly.Module>, wasi: (args: string[]) => WasiOptions,
  job: URL): PosixForkContinuation {
  let child: PosixExports | undefined;
  let fork: PosixFork | undefined;
  let files: Wasi | undefined;
  // a recycled carrier (docs/FORK.md) compiles each program once
  const programs = new Map<string, Promise<WebAssembly.Module>>();
  const compiled = (url: string): Promise<WebAssembly.Module> => {
    if (!programs.has(url)) programs.set(url, load(url));
    return programs.get(url)!;
  };
  return {
    // Off the fork's path: compiling the program includes its interpreter loop by the optimising tier (the tiering the
    // parent passes on), a second for CPython's fork build, which a fresh carrier's first child would otherwise wait for.
    async prepare({ data }) {
      const program = (data as Partial<PosixForkPrepareData> | undefined)?.program;
      if (typeof program === 'string') await compiled(program);
    },
    async afterForkChild({ runtime, thread, data, pid }) {
      const program = await compiled(data.program);
      // fork and waitpid through the runtime (its fork service starts on the first fork), wait and kill through its thread
      const forker = {
        fork: runtime.fork.bind(runtime), waitpid: runtime.waitpid.bind(runtime),
        waitAny: runtime.main.waitAny.bind(runtime.main), kill: runtime.main.kill.bind(runtime.main),
      };
      // The child's threads are the root process's kind (thread-job.ts) over the child's memory, on its runtime. A
      // thread's own requests (a thread it starts, its fork service) go to this thread's event loop, which the
      // program holds while it runs: so the fork service starts with the first thread, from here.
      const base = { job: job.href, core: runtime.module, program, args: data.args, exitCell: new SharedArrayBuffer(4), programUrl: data.program };
      let forkService = false;
      const threads = posixImports(runtime.memory, base, (j, d) => {
        if (!forkService) void runtime.forkPoolReady(0).catch(() => undefined); // started now; readiness is not awaited
        forkService = true;
        runtime.spawn(j, d);
      });
      fork = posixForkImports(() => forker, () => ({ program: child!, stackTop: data.stackTop }), () => ({ program: data.program, args: data.args }),
        () => runtime.memory, undefined, { pid: pid ?? rootIdentity.pid, ppid: data.ppid ?? 0 });
      files = new Wasi(wasi(data.args));
      child = await instantiatePosix(program, thread.core, runtime.memory, files, {
        wtp: threads,
        wtp_fork: fork.imports,
      }, { kind: 'adopt', stackPointer: data.frames?.stackPointer ?? data.stackTop, tlsBase: data.tlsBase });
      fork.cfork.bind(child);
      (child.wtp_after_fork_child as (h: number) => void)(thread.handle);
    },
    resume({ data }) {
      try {
        // a thread's function that returns in the child ends it: it was the child's only thread
        if (data.frames) return (fork!.cfork.resume(data.frames), 0);
        return (child!.wtp_fork_child as (arg: number) => number)(data.arg) & 0xff;
      } catch (e) {
        if (e instanceof WasiExit) return e.code;
        if (e instanceof ThreadUnwind) return 0; // pthread_exit of the child's only thread: the process ends with it
        throw e;
      }
    },
    recycle() {
      files?.closeAll();
      child = fork = files = undefined;
    },
  };
}
