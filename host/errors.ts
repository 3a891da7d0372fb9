// Typed errors. Every error the project throws extends WasmThreadsError and
// carries `code` (a stable string) and `errno` (its number). Numbers, names,
// messages, classes and the class hierarchy come from abi/abi.json
// (host/errors.generated.ts): one range per layer (core, fork bridge, VM,
// host), disjoint. The class is chosen from the domain the throwing operation
// names as well as the code: a lock's E_BUSY is a LockError, a cache's a
// SeqlockError, a stop's a StopBusyError. Nothing is read from a message.
import { ERROR_TABLE, ERRNO, DOMAIN_CLASSES, type ErrorClassName, type ErrorCode, type ErrorDomain, type ErrorEntry } from './errors.generated.js';
import { handleIndex } from './layout.js';

export { ERRNO, ERROR_TABLE, ERROR_RANGES, DOMAIN_CLASSES, ERROR_CLASS_PARENTS } from './errors.generated.js';
export type { ErrorClassName, ErrorCode, ErrorDomain, ErrorEntry, ErrorLayer } from './errors.generated.js';

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
  /** The deadline the stop had, in ms. */
  readonly timeoutMs: number;
  constructor(stragglers: number[], timeoutMs: number) {
    super(
      'E_TIMEOUT',
      `stop-the-world timed out after ${timeoutMs} ms; ${stragglers.length} thread(s) did not reach a safe point: ` +
        (stragglers.map((h) => `slot ${handleIndex(h)} (handle ${h})`).join(', ') || 'none'),
    );
    this.stragglers = stragglers;
    this.timeoutMs = timeoutMs;
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

/** The runtime was closed: every call on it, and on every object it handed out, throws this. */
export class ClosedError extends WasmThreadsError {
  constructor(message = 'the runtime is closed') {
    super('E_CLOSED', message);
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

/**
 * Any fork failure: `catch (e) { if (e instanceof ForkError) … }` catches
 * every one (refused, server, snapshot, child process); `code` tells them apart.
 * A plain ForkError failed after the world was stopped (spawn, child death,
 * ack timeout); the world was resumed.
 */
export class ForkError extends WasmThreadsError {
  constructor(code: ErrorCode, message: string, errno: number = ERRNO[code]) {
    super(code, message, errno);
  }
}

/** Fork refused: the world could not be stopped in time (EAGAIN). The world runs on. */
export class ForkRefusedError extends ForkError {
  readonly stragglers: number[];
  constructor(stragglers: number[], detail: string) {
    super('E_AGAIN', `fork refused: ${detail}`);
    this.stragglers = stragglers;
  }
}

/**
 * The fork server (a separate process or worker) failed, or did not start;
 * `errno` is its FORK_E_* code when it sent one.
 */
export class ForkServerError extends ForkError {
  constructor(message: string, errno?: number, override readonly cause?: unknown) {
    const entry = errno === undefined ? undefined : BY_ERRNO.get(errno);
    super(entry ? (entry.code as ErrorCode) : 'E_FORK_SERVER', message, entry ? entry.errno : ERRNO.E_FORK_SERVER);
  }
}

/** A memory snapshot was rejected (magic, version, ABI, size, checksum). */
export class SnapshotError extends ForkError {
  constructor(message: string) {
    super('E_SNAPSHOT', message);
  }
}

/** waitpid on a pid that is not an unreaped child (ECHILD). */
export class ChildProcessError extends ForkError {
  constructor(message: string) {
    super('E_CHILD', message);
  }
}

/**
 * A fork child's call to its parent's side failed (host/fork/parent-calls.ts): the parent's service threw
 * (E_PARENT_CALL, its message carried), the link to the fork server is gone (E_PARENT_GONE), or the runtime has no
 * `fork.parentService` (E_NO_PARENT_SERVICE).
 */
export class ParentCallError extends ForkError {}

/** The reference VM's assembler rejected a program at source line `line`. */
export class AssembleError extends WasmThreadsError {
  constructor(readonly line: number, message: string) {
    super('E_ASSEMBLE', `line ${line}: ${message}`);
  }
}

/** A reference-VM program failed: its run `status`, the failing `pc` and its source line when known. */
export class InterpreterError extends WasmThreadsError {
  constructor(readonly status: number, readonly pc: number, readonly line: number | undefined, message: string) {
    super(codeName(status), line === undefined ? message : `line ${line}: ${message}`, status);
  }
}

/**
 * What an operation knows about its failure, for the classes that carry it:
 * the lock (LockOwnerDeadError), the stragglers and deadline (StopTimeoutError,
 * ForkRefusedError), the abort reason, the VM's pc and line, a cause.
 */
export interface ErrorDetail {
  lockId?: number;
  stragglers?: number[];
  timeoutMs?: number;
  reason?: unknown;
  pc?: number;
  line?: number;
  cause?: unknown;
}

type Make = (code: ErrorCode, message: string, errno: number, d: ErrorDetail) => WasmThreadsError;
const generic = (C: new (code: ErrorCode, message: string, errno: number) => WasmThreadsError): Make => (c, m, n) => new C(c, m, n);
// A class that carries data is built only by an operation that has it: a
// missing field is a mistake at the throw site, never filled with a stand-in.
function need<K extends keyof ErrorDetail>(d: ErrorDetail, k: K, cls: string): NonNullable<ErrorDetail[K]> {
  const v = d[k];
  if (v === undefined || v === null) throw new TypeError(`errorFor: ${cls} needs detail.${k}`);
  return v as NonNullable<ErrorDetail[K]>;
}
/** Classes by the names the tables use. Classes with their own constructors keep the table's code and number. */
const MAKERS: Record<ErrorClassName, Make> = {
  WasmThreadsError: generic(WasmThreadsError),
  ThreadStateError: generic(ThreadStateError),
  StopBusyError: generic(StopBusyError),
  LockError: generic(LockError),
  LockTimeoutError: generic(LockTimeoutError),
  LockOwnerDeadError: (_c, m, _n, d) => new LockOwnerDeadError(need(d, 'lockId', 'LockOwnerDeadError'), m),
  LockNotRecoverableError: (_c, m) => new LockNotRecoverableError(m),
  SeqlockError: generic(SeqlockError),
  StatsBusyError: generic(StatsBusyError),
  ForkError: generic(ForkError),
  InvalidArgumentError: (_c, m) => new InvalidArgumentError(m),
  UnsupportedError: (_c, m) => new UnsupportedError(m),
  StopTimeoutError: (_c, _m, _n, d) => new StopTimeoutError(need(d, 'stragglers', 'StopTimeoutError'), need(d, 'timeoutMs', 'StopTimeoutError')),
  ClosedError: (_c, m) => new ClosedError(m),
  AbortedError: (_c, _m, _n, d) => new AbortedError(d.reason),
  WorkerError: (_c, m, _n, d) => new WorkerError(m, d.cause),
  ChildProcessError: (_c, m) => new ChildProcessError(m),
  ForkRefusedError: (_c, m, _n, d) => new ForkRefusedError(need(d, 'stragglers', 'ForkRefusedError'), m),
  ForkServerError: (_c, m, n, d) => new ForkServerError(m, n, d.cause),
  SnapshotError: (_c, m) => new SnapshotError(m),
  ParentCallError: generic(ParentCallError),
  AssembleError: (_c, m, _n, d) => new AssembleError(need(d, 'line', 'AssembleError'), m),
  InterpreterError: (_c, m, n, d) => new InterpreterError(n, need(d, 'pc', 'InterpreterError'), d.line, m),
};

export function codeName(errno: number): ErrorCode {
  return (BY_ERRNO.get(errno)?.code ?? 'E_UNKNOWN') as ErrorCode;
}

export function messageOf(errno: number): string {
  return BY_ERRNO.get(errno)?.message ?? `error ${errno}`;
}

/** The class abi.json gives code `errno` when an operation of `domain` meets it. */
export function classFor(errno: number, domain: ErrorDomain): ErrorClassName {
  const code = codeName(errno);
  return (DOMAIN_CLASSES[domain][code] ?? BY_ERRNO.get(errno)?.className ?? 'WasmThreadsError') as ErrorClassName;
}

/**
 * The typed error for a negative code met by operation `what` of `domain`:
 * its class is abi.json's for the domain and the code (classFor). `detail`
 * carries what the data-bearing classes hold; a throw site whose code maps to
 * one of them must pass it (a TypeError names the missing field otherwise).
 */
export function errorFor(errno: number, what: string, domain: ErrorDomain, detail: ErrorDetail = {}): WasmThreadsError {
  const entry = BY_ERRNO.get(errno);
  const code = (entry?.code ?? 'E_UNKNOWN') as ErrorCode;
  const message = `${what}: ${entry?.message ?? `error ${errno}`} (${code})`;
  const err = MAKERS[classFor(errno, domain)](code, message, entry ? errno : ERRNO.E_UNKNOWN, detail);
  if (!entry) (err as { errno: number }).errno = errno;
  return err;
}

/** Returns `r` when non-negative, else throws the typed error for it (see errorFor). */
export function check(r: number, what: string, domain: ErrorDomain, detail?: ErrorDetail): number {
  if (r < 0) throw errorFor(r, what, domain, detail);
  return r;
}

/** Every error class the project defines, by the names abi.json's tables use. */
export const ERROR_CLASSES = {
  WasmThreadsError, InvalidArgumentError, UnsupportedError, ThreadStateError, StopTimeoutError, StopBusyError,
  LockError, LockTimeoutError, LockOwnerDeadError, LockNotRecoverableError, SeqlockError, StatsBusyError,
  ClosedError, AbortedError, WorkerError,
  ForkRefusedError, ForkError, ForkServerError, SnapshotError, ChildProcessError, ParentCallError, AssembleError, InterpreterError,
} as const satisfies Record<ErrorClassName, new (...args: never[]) => WasmThreadsError>;
