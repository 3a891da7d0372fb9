// The host side of wtp_fork and wtp_waitpid (vms/posix/src/fork.c): the
// `wtp_fork` imports of one thread's instance, on the project's fork
// subsystem (host/fork). The C side has already taken libc's locks
// (wtp_before_fork) when `fork` is called; the world is stopped only for the
// copy. The child (fork-child.ts) rebuilds this thread's instance over the
// copy and runs the program's export wtp_fork_child(arg).
import { ChildProcessError, ForkRefusedError, type ForkOptions, type ForkOutcome, type WaitpidOptions } from '../../../host/index.js';
import { WASI_ERRNO } from '../../../host/c-fork.js';
import type { PosixExports } from './process.js';

// errno as the program's libc (wasi-libc) numbers it: fork.c stores -result in errno as it is
const { EAGAIN, ECHILD, ENOMEM, ENOSYS } = WASI_ERRNO;
/** waitpid's "still running" (nohang); every other negative result is -errno. */
const RUNNING = -1;

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
}

/** Who forks for a thread: its registration (a job's ctx) or, in a fork child, the child's runtime. */
export interface PosixForker {
  fork(opts?: ForkOptions): ForkOutcome;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
}

/** The `wtp_fork` imports: `view` is the thread's instance (bound late) and its stack top. */
export function posixForkImports(forker: () => PosixForker, view: () => { program: PosixExports; stackTop: number },
  describe: () => { program: string; args: string[] }): Record<string, (...args: number[]) => number> {
  return {
    fork(arg: number): number {
      try {
        const v = view();
        const data: PosixForkData = { arg, stackTop: v.stackTop, tlsBase: v.program.__tls_base.value as number, ...describe() };
        return forker().fork({ data }).pid;
      } catch (e) {
        return -(e instanceof ForkRefusedError ? EAGAIN : ENOMEM);
      }
    },
    waitpid(pid: number, nohang: number): number {
      try {
        const status = forker().waitpid(pid, { noHang: nohang !== 0 });
        return status === undefined ? RUNNING : status;
      } catch (e) {
        return -(e instanceof ChildProcessError ? ECHILD : ENOMEM);
      }
    },
  };
}

/** The imports of an instance that cannot fork (no fork service, or no module file to give the child). */
export function posixNoForkImports(): Record<string, (...args: number[]) => number> {
  return { fork: () => -ENOSYS, waitpid: () => -ECHILD };
}
