// The child's side of wtp_fork and fork(), platform-neutral: the body of the
// fork subsystem's continuation module (fork-continuation.ts under Node).
// After the runtime has adopted the forking thread (after_fork_child: only its
// slot lives, every core lock released), the continuation starts the child's
// first thread as a job, as a root process starts its main() (process.ts):
// the root's thread job (thread-job.ts, role 'child') instantiates the program
// over the copy on the forking thread's stack and TLS block (as they were),
// the layer resets libc's locks and its thread bookkeeping
// (wtp_after_fork_child), and the thread runs wtp_fork_child(arg) (wtp_fork:
// no frame lives on, the stack is fresh) or rewinds the export the forking
// thread was running over its unwound frames in the copy (fork():
// host/c-fork.ts), where fork() returns 0. Until that rewind the stack
// pointer stays below every unwound frame, so the reset's own frames leave
// them alone.
//
// In a page the child's threads also get what the parent's have from the page
// (prepareData.host: its output log, its files' channel, its stdin) and run
// the job module the parent's run (prepareData.job: the VM's own).
//
// The carrier's own thread never runs the program: it idles detached and
// serves the child's threads as a root process's main thread does, so a
// thread that any thread of the child starts starts at once, and an exit from
// any thread ends the child (its other threads stopped by the runtime's close)
// with that status.
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { rootIdentity, type PosixForkData, type PosixForkPrepareData } from './fork.js';
import { exitStatus, hostReport, outputSink, type PosixJobData } from './process.js';
import { startProcessIo, type Spawner } from './spawn.js';
import { markAdopted, readRecord } from './fork-pipes.js';
import type { ParentCall } from './pipe-bridge.js';

/**
 * `pid`: the child's, as fork returned it (absent where the platform does not say); `callParent`: a call to the
 * parent's fork server (docs/FORK.md "Calls to the parent"), which relays the inherited pipes (pipe-relay.ts).
 */
export interface PosixForkChildContext {
  runtime: Runtime; thread: RegisteredThread; data: PosixForkData; pid?: number;
  callParent?: (body: unknown) => Promise<unknown>;
}

export interface PosixForkContinuation {
  /** Before the child's snapshot: the program compiled (prepareData.program), its first thread's worker started (`warmWorker`). */
  prepare(ctx: { data?: unknown; warmWorker?(job: string): void }): Promise<void>;
  afterForkChild(ctx: PosixForkChildContext): Promise<void>;
  /** The child's exit status, once any of its threads exited it; its runtime is closed by then. */
  resume(ctx: PosixForkChildContext): Promise<number>;
  /** The child's program ended: nothing of it is kept, so its carrier can serve the next child. */
  recycle(): void;
}

/** How long a child's threads get to finish once one of them exited the child, before their workers are ended. */
const EXIT_GRACE_MS = 100;

/**
 * `load` compiles the program; `job` is the job module of every thread of the child, its first one included
 * (thread-worker.ts under Node: the root process's own, with its WASI), unless prepareData names another. `spawner`:
 * how the child starts processes (given the parent's nodeScripts), as a root process does; absent (a page): it starts
 * none.
 */
export function posixForkContinuation(load: (url: string) => Promise<WebAssembly.Module>, job: URL,
  spawner?: (nodeScripts?: string[]) => Spawner): PosixForkContinuation {
  let program: WebAssembly.Module | undefined;
  // what prepare was given: the same for every child of this carrier (the parent's fork option)
  let shared: Partial<PosixForkPrepareData> = {};
  // a recycled carrier (docs/FORK.md) compiles each program once
  const programs = new Map<string, Promise<WebAssembly.Module>>();
  const compiled = (url: string): Promise<WebAssembly.Module> => {
    if (!programs.has(url)) programs.set(url, load(url));
    return programs.get(url)!;
  };
  return {
    // Off the fork's path: the program's compile includes its interpreter loop by the optimising tier (the tiering the
    // parent passes on), 0.8-0.9 s for CPython's fork build, which a fresh carrier's first child would wait for.
    async prepare({ data, warmWorker }) {
      shared = (data ?? {}) as Partial<PosixForkPrepareData>;
      if (shared.compiled && shared.program && !programs.has(shared.program)) programs.set(shared.program, Promise.resolve(shared.compiled));
      warmWorker?.(shared.job ?? job.href);
      if (typeof shared.program === 'string') await compiled(shared.program);
    },
    async afterForkChild({ runtime, data, callParent }) {
      // before the ack, so a fork that returns a pid in the parent has handed its pipe ends over (pipe.c's mover table)
      if (data.pipes && callParent && readRecord(runtime.memory, data.pipes).length) {
        const r = (await callParent({ op: 'adopt', record: data.pipes }).catch(() => undefined)) as { adopted?: boolean } | undefined;
        if (r?.adopted) markAdopted(runtime.memory, data.pipes);
      }
      program = await compiled(data.program);
    },
    async resume({ runtime, data, pid, callParent }) {
      const exitCell = new SharedArrayBuffer(4);
      const threads = shared.job ?? job.href;
      // the child's own pipes and processes, and the bridges of the pipe ends it inherited
      const io = startProcessIo(runtime.memory, spawner?.(shared.nodeScripts), outputSink(shared.host ?? {}), callParent as ParentCall | undefined);
      const first: PosixJobData = {
        role: 'child', job: threads, core: runtime.module, program: program!, args: data.args, area: 0, exitCell, programUrl: data.program,
        child: data, identity: { pid: pid ?? rootIdentity.pid, ppid: data.ppid ?? 0 }, ...shared.host,
        processChannel: io.processChannel, pipeFds: io.pipeFds,
      };
      const main = runtime.spawn(threads, first);
      // the forking thread goes on in that job: this thread only serves the child's threads from here
      runtime.main.detach();
      const code = await exitStatus(exitCell, main, hostReport(shared.host ?? {}));
      await runtime.close({ graceMs: EXIT_GRACE_MS });
      await io.end();
      return code;
    },
    recycle() {
      program = undefined;
    },
  };
}
