// The host side of wtp_fork, fork() and waitpid (vms/posix/src/fork.c): the
// `wtp_fork` imports of one thread's instance, on the project's fork
// subsystem (host/fork). The C side has already taken libc's locks
// (wtp_before_fork) when `fork` or `fork_here` is called; the world is stopped
// only for the copy. The child (fork-child.ts) rebuilds this thread's instance
// over the copy and runs the program's export wtp_fork_child(arg) (`fork`), or
// rewinds the thread's unwound frames so that fork() returns 0 (`fork_here`,
// host/c-fork.ts: a module built with scripts/asyncify-fork.mjs). getpid and
// getppid answer the process's own pids, wait_any the first child to exit,
// kill ends a child (host/fork/exits.ts).
import { ChildProcessError, ForkRefusedError, InvalidArgumentError, type ForkOptions, type ForkOutcome, type WaitpidOptions } from '../../../host/index.js';
import { CForkThread, WASI_ERRNO, type CForkFrames } from '../../../host/c-fork.js';
import type { CModuleExports } from '../../../host/embed-link.js';

// errno as the program's libc (wasi-libc) numbers it: fork.c stores -result in errno as it is
const { EAGAIN, ECHILD, EINVAL, ENOMEM, ENOSYS, ESRCH } = WASI_ERRNO;
/**
 * The hand-off's deadline of a fork (ForkOptions.ackTimeoutMs; the subsystem's default is 10 s): with no warm pool a
 * child starts Node and compiles the program (CPython: megabytes of code) before it acknowledges, which on two loaded
 * cores took longer than 10 s; a child that never acknowledges still fails the fork, after a minute.
 */
const POSIX_FORK_ACK_TIMEOUT_MS = 60_000;
/** waitpid's "still running" (nohang); every other negative result is -errno. */
const RUNNING = -1;

/**
 * The fork option `prepareData` the layer gives its continuation (startPosixProcess): the program a warm child
 * compiles; where the children share them (a page: PosixProcessOptions.childrenShareHost), the program compiled
 * (`compiled`: a page's workers share a Module and its code, where each child's own compile of CPython's fork build
 * cost it seconds of CPU), the job module of their threads and what those threads have from the host.
 */
export interface PosixForkPrepareData {
  program: string;
  compiled?: WebAssembly.Module;
  job?: string;
  host?: PosixHostShare;
  /** The parent's spawner's Node programs of the VM's own (node-spawn.ts), which the child's spawner starts the same way. */
  nodeScripts?: string[];
}

/** What every thread of a process has from its host that a page's fork child's threads have too (PosixJobData's). */
export interface PosixHostShare {
  output?: SharedArrayBuffer;
  capture?: SharedArrayBuffer;
  wasiData?: unknown;
  env?: Record<string, string>;
}

/** What the child needs to continue the forking thread (ForkOptions.data: JSON, ≤ 1 KiB). */
export interface PosixForkData {
  arg: number;
  /** The top of the forking thread's stack: no frame of the program lives on in the child. */
  stackTop: number;
  /** The forking thread's TLS block, set as __tls_base (never __wasm_init_tls: it would reset the block). */
  tlsBase: number;
  /** The program's module (a file: URL) and argv, for the child's instance and WASI. */
  program: string;
  args: string[];
  /** A fork() with the thread's frames live (fork_here): its unwound frames, which the child rewinds. */
  frames?: CForkFrames;
  /** The forking process's pid: the child's getppid(). */
  ppid?: number;
  /** The record of the pipe ends the child inherits, in the copy (fork-pipes.ts): its child adopts it from the parent. */
  pipes?: number;
}

/** A process's pid and its parent's, as getpid() and getppid() answer them. */
export interface PosixIdentity { pid: number; ppid: number }

const nodeProcess = (globalThis as { process?: { pid?: number; ppid?: number } }).process;
/**
 * A process the fork service did not start: under Node the OS's pids (a fork child under Node's 'process'
 * isolation is an OS process too, whose pid is what fork returned), elsewhere 1 and 0.
 */
export const rootIdentity: PosixIdentity = { pid: nodeProcess?.pid ?? 1, ppid: nodeProcess?.ppid ?? 0 };

/** Who forks for a thread: its registration (a job's ctx) or, in a fork child, the child's runtime. */
export interface PosixForker {
  fork(opts?: ForkOptions): ForkOutcome;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
  waitAny(opts: WaitpidOptions): { pid: number; status: number } | undefined;
  kill(pid: number, signal: number): void;
}

const forkErrno = (e: unknown): number => (e instanceof ForkRefusedError ? EAGAIN : ENOMEM);

/** The `wtp_fork` imports of one thread's instance, and the driver of its fork() (bind it, run the thread through it). */
export interface PosixFork {
  imports: Record<string, (...args: number[]) => number>;
  cfork: CForkThread;
}

/**
 * The `wtp_fork` imports: `view` is the thread's instance (bound late) and its stack top. `refusal` is added to the
 * text of a fork() the module cannot make (no fork build step): where the build that can is.
 */
export function posixForkImports(forker: () => PosixForker, view: () => { program: CModuleExports; stackTop: number },
  describe: () => { program: string; args: string[]; pipes?: number }, memory: () => WebAssembly.Memory, refusal?: string,
  self: PosixIdentity = rootIdentity): PosixFork {
  const forkWith = (data: PosixForkData) => forker().fork({ data: { ...data, ppid: self.pid }, ackTimeoutMs: POSIX_FORK_ACK_TIMEOUT_MS }).pid;
  const cfork = new CForkThread(memory, (frames) => {
    const v = view();
    // argv[0] only: the program has read its arguments (args_get) into the heap the child gets; a long `-c` script
    // would not fit ForkOptions.data
    const d = describe();
    return forkWith({ arg: 0, stackTop: v.stackTop, tlsBase: frames.tlsBase, program: d.program, args: d.args.slice(0, 1), pipes: d.pipes, frames });
  }, forkErrno);
  // the text of the last failed fork of either kind (`error`)
  let lastError = '';
  const imports = {
    fork(arg: number): number {
      try {
        const v = view();
        return forkWith({ arg, stackTop: v.stackTop, tlsBase: v.program.__tls_base.value as number, ...describe() });
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        return -forkErrno(e);
      }
    },
    fork_here(data: number, size: number): number {
      const r = cfork.forkImport(data, size);
      if (r < 0) lastError = cfork.lastError;
      return r;
    },
    error(buf: number, len: number): number {
      // a build that cannot fork, or cannot fork there (a build with a list, host/c-fork.ts): where the one that can is
      const refused = lastError.startsWith('fork: this build cannot fork') || lastError.startsWith('fork: under ');
      const text = refused && refusal ? `${lastError}; ${refusal}` : lastError;
      const bytes = new TextEncoder().encode(text);
      const n = Math.min(bytes.length, len);
      new Uint8Array(memory().buffer, buf, n).set(bytes.subarray(0, n));
      return n;
    },
    // Linux's wait status (the host encodes it: an exit or a signal)
    waitpid(pid: number, nohang: number): number {
      try {
        const status = forker().waitpid(pid, { noHang: nohang !== 0, waitStatus: true });
        return status === undefined ? RUNNING : status;
      } catch (e) {
        return -(e instanceof ChildProcessError ? ECHILD : ENOMEM);
      }
    },
    // the first child to exit: its pid (its wait status at `status`), 0 while all run (nohang), or -errno
    wait_any(nohang: number, status: number): number {
      try {
        const r = forker().waitAny({ noHang: nohang !== 0, waitStatus: true });
        if (!r) return 0;
        if (status) new Int32Array(memory().buffer, status, 1)[0] = r.status;
        return r.pid;
      } catch (e) {
        return -(e instanceof ChildProcessError ? ECHILD : ENOMEM);
      }
    },
    kill(pid: number, signal: number): number {
      try {
        forker().kill(pid, signal);
        return 0;
      } catch (e) {
        return -(e instanceof InvalidArgumentError ? EINVAL : e instanceof ChildProcessError ? ESRCH : ENOMEM);
      }
    },
    getpid: () => self.pid,
    getppid: () => self.ppid,
  };
  return { imports, cfork };
}

/** The imports of an instance that cannot fork (no fork service, or no module file to give the child). */
export function posixNoForkImports(self: PosixIdentity = rootIdentity): Record<string, (...args: number[]) => number> {
  return {
    fork: () => -ENOSYS, fork_here: () => -ENOSYS, waitpid: () => -ECHILD, wait_any: () => -ECHILD, kill: () => -ESRCH, error: () => 0,
    getpid: () => self.pid, getppid: () => self.ppid,
  };
}
