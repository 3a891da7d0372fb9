// Typed errors. Every negative code from the module maps to one class; each
// carries `code` (a stable string) and `errno` (the module's number).

export const ERRNO = {
  E_NOT_INIT: -1,
  E_ALREADY_INIT: -2,
  E_ARG: -3,
  E_BAD_HANDLE: -4,
  E_STALE: -5,
  E_STATE: -6,
  E_FULL: -7,
  E_TIMEOUT: -8,
  E_ALREADY: -9,
  E_NOT_REQUESTER: -10,
  E_BAD_LOCK: -11,
  E_NOT_OWNER: -12,
  E_RECURSION: -13,
  E_DEADLOCK: -14,
  E_WOULD_BLOCK: -15,
  E_BUSY: -16,
  E_CORRUPT: -17,
  E_OWNER_DEAD: -18,
  E_NOT_RECOVERABLE: -19,
} as const;
export type ErrorCode =
  | keyof typeof ERRNO
  | 'E_CLOSED' | 'E_ABORTED' | 'E_WORKER' | 'E_CHILD' | 'E_AGAIN' | 'E_UNKNOWN'
  | 'E_FORK' | 'E_SPAWN' | 'E_CHILD_DIED' | 'E_ACK_TIMEOUT' | 'E_SNAPSHOT' | 'E_TABLE_FULL';

const MESSAGES: Record<number, string> = {
  [-1]: 'the shared memory is not initialised',
  [-2]: 'the shared memory is already initialised',
  [-3]: 'argument out of range',
  [-4]: 'not a thread handle',
  [-5]: 'stale thread handle (the slot was freed or reused)',
  [-6]: 'the thread is not in a state this call accepts',
  [-7]: 'no free slot',
  [-8]: 'deadline passed',
  [-9]: 'this thread already holds the stop',
  [-10]: 'this thread did not stop the world',
  [-11]: 'no such lock',
  [-12]: 'the lock is not held by this thread',
  [-13]: 'lock recursion depth would overflow',
  [-14]: 'relocking a mutex this thread already holds',
  [-15]: 'would block',
  [-16]: 'busy',
  [-17]: 'memory does not hold this ABI',
  [-18]: 'acquired, but the previous owner died holding it: repair the state it guards, then mark it consistent',
  [-19]: 'the lock was released after its owner died without being marked consistent: it is unusable',
};

export class WasmThreadsError extends Error {
  readonly code: ErrorCode;
  readonly errno: number;
  constructor(code: ErrorCode, message: string, errno = 0) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.errno = errno;
  }
}

/** An argument the host API rejects before reaching the module. */
export class InvalidArgumentError extends WasmThreadsError {
  constructor(message: string) {
    super('E_ARG', message, ERRNO.E_ARG);
  }
}

/** The module refused a thread-state operation (bad/stale handle, wrong state). */
export class ThreadStateError extends WasmThreadsError {}

/** A stop-the-world did not complete by its deadline; the world runs again. */
export class StopTimeoutError extends WasmThreadsError {
  /** Handles of the threads that never reached a safe point. */
  readonly stragglers: number[];
  constructor(stragglers: number[], timeoutMs: number) {
    super(
      'E_TIMEOUT',
      `stop-the-world timed out after ${timeoutMs} ms; ${stragglers.length} thread(s) did not reach a safe point: ` +
        (stragglers.map((h) => `slot ${h & 0xff} (handle ${h})`).join(', ') || 'none'),
      ERRNO.E_TIMEOUT,
    );
    this.stragglers = stragglers;
  }
}

/** Another thread held the stop past this request's deadline. */
export class StopBusyError extends WasmThreadsError {}

export class LockError extends WasmThreadsError {}
export class LockTimeoutError extends WasmThreadsError {}

/**
 * The lock WAS acquired (the caller holds it), but its previous owner died
 * holding it. Repair what it guards, then call `consistent()`; unlocking
 * without that makes the lock unusable (LockNotRecoverableError).
 */
export class LockOwnerDeadError extends LockError {
  constructor(readonly lockId: number, message: string) {
    super('E_OWNER_DEAD', message, ERRNO.E_OWNER_DEAD);
  }
}

/** The lock was released inconsistent after an owner death: every acquire fails. Destroy and create it again. */
export class LockNotRecoverableError extends LockError {
  constructor(message: string) {
    super('E_NOT_RECOVERABLE', message, ERRNO.E_NOT_RECOVERABLE);
  }
}

/** The runtime was closed. */
export class ClosedError extends WasmThreadsError {
  constructor(what = 'runtime') {
    super('E_CLOSED', `the ${what} is closed`);
  }
}

/** An AbortSignal ended the operation. */
export class AbortedError extends WasmThreadsError {
  constructor(reason?: unknown) {
    super('E_ABORTED', `aborted${reason instanceof Error ? `: ${reason.message}` : reason ? `: ${String(reason)}` : ''}`);
  }
}

/** A worker failed to start, threw, or exited while registered. */
export class WorkerError extends WasmThreadsError {
  constructor(message: string, override readonly cause?: unknown) {
    super('E_WORKER', message);
  }
}

/** Fork refused: the world could not be stopped in time (EAGAIN). The world runs on. */
export class ForkRefusedError extends WasmThreadsError {
  readonly stragglers: number[];
  constructor(stragglers: number[], detail: string) {
    super('E_AGAIN', `fork refused: ${detail}`);
    this.stragglers = stragglers;
  }
}

/** Fork failed after the world was stopped (spawn, child death, ack timeout, bad snapshot); the world was resumed. */
export class ForkError extends WasmThreadsError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/** waitpid on a pid that is not an unreaped child (ECHILD). */
export class ChildProcessError extends WasmThreadsError {
  constructor(message: string) {
    super('E_CHILD', message);
  }
}

const CLASS_BY_ERRNO: Record<number, new (code: ErrorCode, message: string, errno: number) => WasmThreadsError> = {
  [-4]: ThreadStateError,
  [-5]: ThreadStateError,
  [-6]: ThreadStateError,
  [-9]: ThreadStateError,
  [-10]: ThreadStateError,
  [-11]: LockError,
  [-12]: LockError,
  [-13]: LockError,
  [-14]: LockError,
  [-16]: StopBusyError,
};

export function codeName(errno: number): ErrorCode {
  const entry = Object.entries(ERRNO).find(([, v]) => v === errno);
  return (entry ? entry[0] : 'E_UNKNOWN') as ErrorCode;
}

/** The typed error for a negative module return code. */
export function errorFor(errno: number, what: string): WasmThreadsError {
  const code = codeName(errno);
  const message = `${what}: ${MESSAGES[errno] ?? `error ${errno}`} (${code})`;
  if (errno === ERRNO.E_ARG) return new InvalidArgumentError(message);
  if (errno === ERRNO.E_NOT_RECOVERABLE) return new LockNotRecoverableError(message);
  if (errno === ERRNO.E_OWNER_DEAD) return new LockOwnerDeadError(-1, message);
  const Cls = CLASS_BY_ERRNO[errno] ?? WasmThreadsError;
  return new Cls(code, message, errno);
}

/** Returns `r` when non-negative, else throws the typed error for it. */
export function check(r: number, what: string): number {
  if (r < 0) throw errorFor(r, what);
  return r;
}
