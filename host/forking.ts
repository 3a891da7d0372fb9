// A registered thread's fork and waitpid: the thread's side of the fork
// client (host/fork/client.ts), which asks the thread for the import lock and
// the stop. The thread's resolved stopTimeoutMs is a fork's default deadline.
import { ForkClient, type AtForkHooks, type ForkOutcome, type ForkingThread, type WaitpidOptions } from './fork/client.js';
import type { ForkOptions } from './fork/request.js';
import type { ForkControl } from './fork/protocol.js';
import { ForkError, InvalidArgumentError, LockOwnerDeadError } from './errors.js';
import { IMPORT_LOCK, STATE_MASK, ST_DEAD, ST_FREE } from './layout.js';
import type { CoreExports } from './core.js';

/** What the import lock's fork-time use needs of the thread. */
export interface ImportLocking {
  lock(id: number): void;
  lockAsync(id: number): Promise<void>;
  consistent(id: number): void;
}

/** The fork client of one thread, or a refusal when its runtime cannot fork. */
export class Forks {
  readonly #client?: ForkClient;

  constructor(thread: ForkingThread, control: ForkControl | undefined, private readonly stopTimeoutMs: number) {
    if (control) this.#client = new ForkClient(control, thread);
  }

  get #fork(): ForkClient {
    if (!this.#client) throw new ForkError('E_FORK', 'fork is not available: createRuntime({ fork: { continuation } })');
    return this.#client;
  }

  // A call's own deadline, else the thread's.
  #request(opts: ForkOptions | undefined): ForkOptions {
    return { ...opts, stopTimeoutMs: opts?.stopTimeoutMs ?? this.stopTimeoutMs };
  }

  fork(opts?: ForkOptions): ForkOutcome {
    return this.#fork.fork(this.#request(opts));
  }

  forkAsync(opts?: ForkOptions): Promise<ForkOutcome> {
    return this.#fork.forkAsync(this.#request(opts));
  }

  waitpid(pid: number, opts?: WaitpidOptions): number | undefined {
    return this.#fork.waitpid(pid, opts);
  }

  waitpidAsync(pid: number, opts?: WaitpidOptions): Promise<number | undefined> {
    return this.#fork.waitpidAsync(pid, opts);
  }

  waitAny(opts?: WaitpidOptions): { pid: number; status: number } | undefined {
    return this.#fork.waitAny(opts);
  }

  kill(pid: number, signal: number): void {
    this.#fork.kill(pid, signal);
  }

  registerAtFork(hooks: AtForkHooks): void {
    this.#fork.registerAtFork(hooks);
  }
}

// The import lock guards no user state: taken over from a thread that died
// holding it (E_OWNER_DEAD), it is marked consistent and the fork goes on.
function takenOver(t: ImportLocking, e: unknown): void {
  if (!(e instanceof LockOwnerDeadError)) throw e;
  t.consistent(IMPORT_LOCK);
}

export function lockImport(t: ImportLocking): void {
  try {
    t.lock(IMPORT_LOCK);
  } catch (e) {
    takenOver(t, e);
  }
}

export function lockImportAsync(t: ImportLocking): Promise<void> {
  return t.lockAsync(IMPORT_LOCK).catch((e: unknown) => takenOver(t, e));
}

/** Whether handle `h` still names a live registered thread (a fork claim of a dead one is taken over). */
export function isLive(core: CoreExports, h: unknown): boolean {
  if (typeof h !== 'number') throw new InvalidArgumentError(`isLive: a handle is a number, got ${String(h)}`);
  const s = core.thread_state(h);
  return s >= 0 && (s & STATE_MASK) !== ST_DEAD && (s & STATE_MASK) !== ST_FREE;
}
