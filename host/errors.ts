// Typed errors. Every error the project throws extends WasmThreadsError and
// carries `code` (a stable string) and `errno` (its number). Numbers, names,
// messages and default classes come from abi/abi.json (host/errors.generated.ts):
// one range per layer (core, fork bridge, VM, host), disjoint. The class is
// chosen from the operation's domain as well as the code: a lock's E_BUSY is a
// LockError, a cache's a SeqlockError, a stop's a StopBusyError.
import { ERROR_TABLE, ERRNO, DOMAIN_CLASSES, type ErrorCode, type ErrorDomain, type ErrorEntry } from './errors.generated.js';
import { handleIndex } from './layout.js';

export { ERRNO, ERROR_TABLE, ERROR_RANGES, DOMAIN_CLASSES } from './errors.generated.js';
export type { ErrorCode, ErrorDomain, ErrorEntry, ErrorLayer } from './errors.generated.js';

const BY_ERRNO = new Map<number, ErrorEntry>(ERROR_TABLE.map((e) => [e.errno, e]));

export class WasmThreadsError extends Error {
  readonly code: ErrorCode;
  readonly errno: number;
  constructor(code: ErrorCode, message: string, errno: number = ERRNO[code]) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.errno = errno;
  }
}

/** An argument the host API or the module rejects. */
export class InvalidArgumentError extends WasmThreadsError {
  constructor(message: string) {
    super('E_ARG', message);
  }
}

/** A platform capability (or a linked module) is missing, or a call would block where blocking is not allowed. */
export class UnsupportedError extends WasmThreadsError {
  constructor(message: string) {
    super('E_UNSUPPORTED', message);
  }
}

/** The module refused a thread-state operation (bad/stale handle, wrong state, not initialised). */
export class ThreadStateError extends WasmThreadsError {}

/** A stop-the-world did not complete by its deadline; the world runs again. */
export class StopTimeoutError extends WasmThreadsError {
  /** Handles of the threads that never reached a safe point. */
  readonly stragglers: number[];
  constructor(stragglers: number[], timeoutMs: number) {
    super(
      'E_TIMEOUT',
      `stop-the-world timed out after ${timeoutMs} ms; ${stragglers.length} thread(s) did not reach a safe point: ` +
        (stragglers.map((h) => `slot ${handleIndex(h)} (handle ${h})`).join(', ') || 'none'),
    );
    this.stragglers = stragglers;
  }
}

/** Another thread held the stop past this request's deadline. */
export class StopBusyError extends WasmThreadsError {}

export class LockError extends WasmThreadsError {}
export class LockTimeoutError extends WasmThreadsError {}

/** A seqlock write or read (cache entry, record) could not complete. */
export class SeqlockError extends WasmThreadsError {}

/** The stats record stayed mid-write for every try. */
export class StatsBusyError extends WasmThreadsError {}
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

/** The fork server (a separate process) failed; `errno` is its FORK_E_* code when it sent one. */
export class ForkServerError extends WasmThreadsError {
  constructor(message: string, errno?: number) {
    const entry = errno === undefined ? undefined : BY_ERRNO.get(errno);
    super(entry ? (entry.code as ErrorCode) : 'E_FORK_SERVER', message, entry ? entry.errno : ERRNO.E_FORK_SERVER);
  }
}

/** A memory snapshot was rejected (magic, version, ABI, size, checksum). */
export class SnapshotError extends WasmThreadsError {
  constructor(message: string) {
    super('E_SNAPSHOT', message);
  }
}

/** waitpid on a pid that is not an unreaped child (ECHILD). */
export class ChildProcessError extends WasmThreadsError {
  constructor(message: string) {
    super('E_CHILD', message);
  }
}

type Make = (code: ErrorCode, message: string, errno: number) => WasmThreadsError;
const generic = (C: new (code: ErrorCode, message: string, errno: number) => WasmThreadsError): Make => (c, m, n) => new C(c, m, n);
/** Classes by the names the tables use. Classes with their own constructors keep the table's code and number. */
const MAKERS: Record<string, Make> = {
  WasmThreadsError: generic(WasmThreadsError),
  ThreadStateError: generic(ThreadStateError),
  StopBusyError: generic(StopBusyError),
  LockError: generic(LockError),
  LockTimeoutError: generic(LockTimeoutError),
  LockOwnerDeadError: (_c, m) => new LockOwnerDeadError(-1, m),
  LockNotRecoverableError: (_c, m) => new LockNotRecoverableError(m),
  SeqlockError: generic(SeqlockError),
  StatsBusyError: generic(StatsBusyError),
  ForkError: (c, m) => new ForkError(c, m),
  InvalidArgumentError: (_c, m) => new InvalidArgumentError(m),
  UnsupportedError: (_c, m) => new UnsupportedError(m),
  StopTimeoutError: (_c, m) => Object.assign(new StopTimeoutError([], 0), { message: m }),
  ClosedError: (_c, m) => Object.assign(new ClosedError(), { message: m }),
  AbortedError: (_c, m) => Object.assign(new AbortedError(), { message: m }),
  WorkerError: (_c, m) => new WorkerError(m),
  ChildProcessError: (_c, m) => new ChildProcessError(m),
  ForkRefusedError: (_c, m) => new ForkRefusedError([], m),
  ForkServerError: (_c, m, n) => new ForkServerError(m, n),
  SnapshotError: (_c, m) => new SnapshotError(m),
};

export function codeName(errno: number): ErrorCode {
  return (BY_ERRNO.get(errno)?.code ?? 'E_UNKNOWN') as ErrorCode;
}

export function messageOf(errno: number): string {
  return BY_ERRNO.get(errno)?.message ?? `error ${errno}`;
}

// Callers written before domains existed name the operation in `what`; read
// the domain from it so they still get the operation's class.
function domainOf(what: string): ErrorDomain | undefined {
  if (/\b(lock|mutex|unlock|tryLock|lockAsync)/i.test(what)) return 'lock';
  if (/\b(stop|start)/i.test(what)) return 'stop';
  if (/\bcache/i.test(what)) return 'cache';
  if (/\brecord/i.test(what)) return 'record';
  if (/\bstats/i.test(what)) return 'stats';
  return undefined;
}

/**
 * The typed error for a negative code, whose class depends on the operation's
 * `domain` and the code. Without a domain it is read from `what`.
 */
export function errorFor(errno: number, what: string, domain?: ErrorDomain): WasmThreadsError {
  const entry = BY_ERRNO.get(errno);
  const code = (entry?.code ?? 'E_UNKNOWN') as ErrorCode;
  const message = `${what}: ${entry?.message ?? `error ${errno}`} (${code})`;
  const d = domain ?? domainOf(what);
  const cls = (d && DOMAIN_CLASSES[d][code]) || entry?.className || 'WasmThreadsError';
  const make = MAKERS[cls] ?? MAKERS.WasmThreadsError;
  const err = make(code, message, entry ? errno : ERRNO.E_UNKNOWN);
  if (!entry) (err as { errno: number }).errno = errno;
  return err;
}

/** Returns `r` when non-negative, else throws the typed error for it (see errorFor). */
export function check(r: number, what: string, domain?: ErrorDomain): number {
  if (r < 0) throw errorFor(r, what, domain);
  return r;
}

/** Every error class the project defines, by name (the README's table lists them). */
export const ERROR_CLASSES = {
  WasmThreadsError, InvalidArgumentError, UnsupportedError, ThreadStateError, StopTimeoutError, StopBusyError,
  LockError, LockTimeoutError, LockOwnerDeadError, LockNotRecoverableError, SeqlockError, StatsBusyError,
  ClosedError, AbortedError, WorkerError,
  ForkRefusedError, ForkError, ForkServerError, SnapshotError, ChildProcessError,
} as const;
