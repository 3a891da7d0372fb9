// The parent side of fork(), run by the forking thread (any registered
// thread). The world is stopped only while the live pages are copied:
//
//   wait for a ready server → claim the control block → before hooks → import lock → stop (deadline: refusal) →
//   copy the live pages into the staging area → start the world → release the import lock → after-in-parent hooks →
//   seal (checksum, header) → post the request → wait (detached) for the server's result.
//
// Every other thread runs during the seal and the hand-off. Every failure path
// starts the world, releases the import lock and gives the claim back.
//
// fork and forkAsync (and waitpid and waitpidAsync) are one algorithm each, written once as a generator of the steps
// that wait or block, run by the host's one step runner (host/steps.ts), blocking or not.
import {
  ChildProcessError, ForkError, ForkRefusedError, InvalidArgumentError, StopBusyError, StopTimeoutError, errorFor,
} from '../errors.js';
import {
  CTL_ACK_TIMEOUT_MS, CTL_EXITS, CTL_KILL, CTL_OWNER, CTL_RESULT, CTL_SERVER,
  CTL_SNAPSHOT_BYTES, CTL_STATE, CTL_T_ACK_US, CTL_T_CHILD_US, CTL_T_COLD, CTL_T_READ_US, CTL_T_RESTORE_US,
  CTL_T_TRANSFER_US, FORK_DATA_MAX, CTL_MAX_PAGES, PAGE,
  PROC_RUNNING, REAP_GONE, REAP_RUNNING, SERVER_GONE, SERVER_NONE, SERVER_READY, ST_DONE,
  abandon, controlWords, post, procFind, procReap, procState, readMessage, release, serverGone, stagingView, waitWordAsync,
  type ForkControl, type ProcEntry,
} from './protocol.js';
import { SIGKILL, SIGTERM, exitCodeOf, exitCount, postKill, procFirstExited, waitStatusOf } from './exits.js';
import { copyLive, imageChecksum, seal, type LiveCopy } from './snapshot.js';
import { prepareRequest, type ForkOptions, type PreparedRequest } from './request.js';
import { runAsync, runBlocking, type Step, type Steps } from '../steps.js';
import { trace } from './trace.js';
import { claimInTurn } from './turn.js';

/** What the fork path needs of the forking thread, and nothing more. */
export interface ForkingThread {
  readonly handle: number;
  readonly memory: WebAssembly.Memory;
  lockImport(): void;
  lockImportAsync(): Promise<void>;
  unlockImport(): void;
  /** Stops the world by `timeoutMs`: StopTimeoutError (stragglers) or StopBusyError (another stop) at the deadline. */
  stopTheWorld(opts: { timeoutMs: number }): void;
  stopTheWorldAsync(opts: { timeoutMs: number }): Promise<void>;
  startTheWorld(): void;
  /** Never blocks the calling thread (a page's main thread forks with forkAsync). */
  startTheWorldAsync(): Promise<void>;
  /** Runs a blocking wait so that no stop waits for this thread. */
  allowThreadsIfAttached<T>(fn: () => T): T;
  detachedWhile<T>(wait: () => Promise<T>): Promise<T>;
  /** Whether handle `h` still names a live registered thread (a claim of a dead one is taken over). */
  isLive(h: number): boolean;
  /**
   * Asks the thread that owns the fork service to start the fork server (a
   * worker's first fork: the server starts on the first fork, not before).
   * Absent on the runtime's own thread, whose fork starts it directly.
   */
  requestForkServer?(): void;
}

export interface AtForkHooks {
  before?: () => void;
  afterInParent?: () => void;
}

/** The parent's side of a fork, in ms (server parts as the server measured them). */
export interface ForkTimings {
  /** waiting for the control block, which one fork at a time holds: another thread's fork may have it. */
  claimMs: number;
  /** import lock + stop (the stop's own latency is in stats()). */
  stopMs: number;
  /** the world stopped: scanning and copying the live pages — the pause other threads see. */
  copyMs: number;
  /** header, meta and checksum, world running. */
  sealMs: number;
  /** posted → result, and the server's parts of it. */
  handoffMs: number;
  childWaitMs: number;
  transferMs: number;
  ackMs: number;
  childReadMs: number;
  childRestoreMs: number;
  /** The child was spawned for this fork (the pool was empty). */
  cold: boolean;
}

export interface ForkOutcome {
  pid: number;
  /** Snapshot checksum and size in bytes (all-zero pages are not sent). */
  checksum: number;
  bytes: number;
  /** With `verify`: the image checksum of the whole memory at the fork point. */
  memoryChecksum?: number;
  timings: ForkTimings;
}

/** A sealed and posted snapshot, as the outcome reports it. */
interface Sealed {
  sealMs: number;
  posted: number;
  bytes: number;
  checksum: number;
  memoryChecksum?: number;
}

export interface WaitpidOptions {
  /** WNOHANG: return undefined at once when the child is still running. */
  noHang?: boolean;
  /** Linux's wait status (exit code << 8, or the signal that ended the child) rather than the exit status. */
  waitStatus?: boolean;
}

/** A status word as the caller asked for it: Linux's wait status, or the exit status (128 + n for signal n). */
const statusAs = (word: number, opts: WaitpidOptions): number => (opts.waitStatus ? waitStatusOf(word) : exitCodeOf(word));

const SERVER_WAIT_MS = 30_000;
const KILL_WAIT_MS = 60_000;
const WAIT_SLICE_MS = 50;
// room for the options JSON in front of the pages: the data plus the flags around it
const OPTIONS_RESERVE = FORK_DATA_MAX + 64;

// A result in the fork bridge's range names its failure (a dead server is E_SERVER_DIED: the service starts a new one
// for the next fork); anything else surfaces as the generic E_FORK.

export class ForkClient {
  readonly ctl: Int32Array;
  readonly #staging: Uint8Array;
  readonly #hooks: AtForkHooks[] = [];

  constructor(private readonly control: ForkControl, private readonly thread: ForkingThread) {
    this.ctl = controlWords(control);
    this.#staging = stagingView(control);
  }

  /** os.register_at_fork: `before` hooks run in reverse order, `afterInParent` in order. */
  registerAtFork(hooks: AtForkHooks): void {
    this.#hooks.push(hooks);
  }

  /** Blocking fork: the child's pid and the figures of this fork. */
  fork(opts: ForkOptions = {}): ForkOutcome {
    return runBlocking(this.#fork(prepareRequest(opts)));
  }

  /** Never blocks the calling thread. */
  forkAsync(opts: ForkOptions = {}): Promise<ForkOutcome> {
    let req: PreparedRequest;
    try {
      req = prepareRequest(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    return runAsync(this.#fork(req));
  }

  /** Exit status of child `pid` (exit code, or 128 + signal), waiting detached; with noHang undefined while it runs. */
  waitpid(pid: number, opts: WaitpidOptions = {}): number | undefined {
    return runBlocking(this.#waitpid(pid, opts));
  }

  /** Never blocks the calling thread. */
  async waitpidAsync(pid: number, opts: WaitpidOptions = {}): Promise<number | undefined> {
    return runAsync(this.#waitpid(pid, opts));
  }

  /** The first child to exit and its status (as waitpid's), waiting detached; with noHang undefined while all run. */
  waitAny(opts: WaitpidOptions = {}): { pid: number; status: number } | undefined {
    return runBlocking(this.#waitAny(opts));
  }

  /** Ends running child `pid` with SIGTERM or SIGKILL (its status then says so); signal 0 only checks it is a child. */
  kill(pid: number, signal: number): void {
    if (signal !== 0 && signal !== SIGTERM && signal !== SIGKILL) throw new InvalidArgumentError(`kill: signal ${String(signal)} is not 0, SIGTERM or SIGKILL`);
    const entry = this.#procEntry(pid, 'kill');
    if (signal !== 0) runBlocking(this.#kill(entry, pid, signal));
  }

  // ---- the algorithms --------------------------------------------------------------

  *#fork(req: PreparedRequest): Steps<ForkOutcome> {
    trace('P', 'fork');
    yield* this.#waitServer();
    const claimMs = yield* this.#claim();
    trace('P', 'claimed');
    let posted = false;
    try {
      this.#before();
      const t0 = performance.now();
      yield { sync: () => this.thread.lockImport(), async: () => this.thread.lockImportAsync() };
      let copy: LiveCopy & { claimMs: number; stopMs: number; copyMs: number };
      let stopped = false;
      try {
        try {
          req.probe?.('locked');
          const timeoutMs = req.stopTimeoutMs;
          yield { sync: () => this.thread.stopTheWorld({ timeoutMs }), async: () => this.thread.stopTheWorldAsync({ timeoutMs }) };
        } catch (e) {
          throw refusal(e);
        }
        stopped = true;
        trace('P', 'stopped');
        copy = { ...this.#copy(req, t0), claimMs };
        trace('P', 'copied', `${copy.pages.length}/${copy.memoryBytes / PAGE}`);
      } finally {
        // every path: the world starts, the import lock is released, then the parent hooks run
        try {
          if (stopped) yield { sync: () => this.thread.startTheWorld(), async: () => this.thread.startTheWorldAsync() };
        } finally {
          this.#unlockAndHooks();
        }
        if (stopped) req.probe?.('started');
      }
      trace('P', 'started');
      const sealed = this.#sealAndPost(req, copy);
      posted = true;
      for (let s = Atomics.load(this.ctl, CTL_STATE); s !== ST_DONE; s = Atomics.load(this.ctl, CTL_STATE)) {
        this.#checkServerAlive();
        yield this.#wait(CTL_STATE, s, WAIT_SLICE_MS);
      }
      return this.#outcome(copy, sealed);
    } finally {
      if (!posted) abandon(this.ctl);
    }
  }

  // POSIX's answer to waiters racing for one child: the status to the one
  // whose reap wins, E_CHILD to every other as soon as the entry is reaped.
  *#waitpid(pid: number, opts: WaitpidOptions): Steps<number | undefined> {
    trace('P', 'waitpid', pid);
    const entry = this.#procEntry(pid, 'waitpid');
    for (;;) {
      const r = procReap(this.ctl, entry);
      if (r === REAP_GONE) throw new ChildProcessError(`waitpid: child ${pid} was reaped by another waiter`);
      if (r !== REAP_RUNNING) {
        trace('P', 'reaped', pid);
        return statusAs(r, opts);
      }
      if (opts.noHang) return undefined;
      // still running: the tag found was RUNNING (an EXITED one never runs again); the exit notifies the word
      yield this.#wait(entry.slot + 1, entry.tag, 100);
    }
  }

  // Another waiter may reap the entry found first: then the next scan's first is the answer.
  *#waitAny(opts: WaitpidOptions): Steps<{ pid: number; status: number } | undefined> {
    for (;;) {
      const seen = exitCount(this.ctl);
      const { entry, children } = procFirstExited(this.ctl);
      if (children === 0) throw new ChildProcessError('wait: this runtime has no unreaped child');
      if (entry) {
        // an entry seen EXITED is reaped (its status) or taken by another waiter (GONE): a new RUNNING child in that
        // slot has a new generation, which procReap tells apart from the one seen
        const r = procReap(this.ctl, entry);
        if (r !== REAP_GONE) return { pid: entry.pid, status: statusAs(r, opts) };
      } else if (opts.noHang) {
        return undefined;
      } else {
        yield this.#wait(CTL_EXITS, seen, WAIT_SLICE_MS);
      }
    }
  }

  // The server serves one kill at a time; a child that exits meanwhile keeps its own status.
  *#kill(entry: ProcEntry, pid: number, signal: number): Steps<void> {
    const ctl = this.ctl;
    const end = performance.now() + KILL_WAIT_MS;
    const running = () => procState(entry.tag) === PROC_RUNNING && Atomics.load(ctl, entry.slot + 1) === entry.tag;
    for (let word = 0; ;) {
      if (word === 0) {
        if (!running()) return;
        word = postKill(ctl, pid, signal);
      } else if (Atomics.load(ctl, CTL_KILL) !== word) return;
      if (Atomics.load(ctl, CTL_SERVER) === SERVER_GONE) throw new ForkError('E_FORK', 'kill: the fork server is gone');
      if (performance.now() > end) throw new ForkError('E_FORK', `kill: the fork server did not serve a kill of ${pid} in ${KILL_WAIT_MS} ms`);
      yield this.#wait(CTL_KILL, Atomics.load(ctl, CTL_KILL), WAIT_SLICE_MS);
    }
  }

  // Readiness: a server not started yet is asked for; a starting one (the
  // first fork's, a child's own, one the service restarts) gets a bounded wait.
  *#waitServer(): Steps<void> {
    const end = performance.now() + SERVER_WAIT_MS;
    let asked = false;
    for (let s = Atomics.load(this.ctl, CTL_SERVER); s !== SERVER_READY; s = Atomics.load(this.ctl, CTL_SERVER)) {
      if (s === SERVER_NONE && !asked) {
        this.thread.requestForkServer?.();
        asked = true;
      }
      if (performance.now() > end) throw new ForkError('E_FORK', 'fork is not available: the fork server is not running');
      yield this.#wait(CTL_SERVER, s, WAIT_SLICE_MS);
    }
  }

  // One fork at a time holds the control block, claimed in turn (host/fork/turn.ts). Returns the ms it waited.
  *#claim(): Steps<number> {
    const t = this.thread;
    return yield* claimInTurn(this.ctl, { handle: t.handle, isLive: (h) => t.isLive(h), wait: (w, v, ms) => this.#wait(w, v, ms) }, WAIT_SLICE_MS);
  }

  // A control word, waited on detached (no stop waits for a forking thread that waits).
  #wait(word: number, value: number, ms: number): Step {
    const { ctl, thread: t } = this;
    return {
      sync: () => void t.allowThreadsIfAttached(() => Atomics.wait(ctl, word, value, ms)),
      async: () => t.detachedWhile(() => waitWordAsync(ctl, word, value, ms)),
    };
  }

  // ---- the parts -------------------------------------------------------------------

  #procEntry(pid: number, what: string): ProcEntry {
    // String(): a template literal throws a TypeError on a Symbol
    if (!Number.isInteger(pid) || pid <= 0) throw new ChildProcessError(`${what}: ${String(pid)} is not a pid`);
    const entry = procFind(this.ctl, pid);
    if (!entry) throw new ChildProcessError(`${what}: ${pid} is not a child of this runtime (or was already reaped)`);
    return entry;
  }

  // The world is stopped: only this runs between the stop and the start.
  #copy(req: PreparedRequest, t0: number): LiveCopy & { stopMs: number; copyMs: number } {
    const t1 = performance.now();
    req.probe?.('stopped');
    const copy = copyLive(this.thread.memory, this.#staging, OPTIONS_RESERVE);
    req.probe?.('copied');
    return { ...copy, stopMs: t1 - t0, copyMs: performance.now() - t1 };
  }

  // After the world is started (or failed to start): the import lock is released
  // even when a hook throws, and every hook runs.
  #unlockAndHooks(): void {
    try {
      this.thread.unlockImport();
    } finally {
      for (const h of this.#hooks) h.afterInParent?.();
    }
  }

  // The request words carry what the server and the child read; what only the outcome needs (the checksums) stays here.
  #sealAndPost(req: PreparedRequest, copy: LiveCopy): Sealed {
    const t0 = performance.now();
    const options = JSON.stringify({ data: JSON.parse(req.data), verify: req.verify });
    const ctl = this.ctl;
    const snap = seal(this.#staging, copy, Atomics.load(ctl, CTL_MAX_PAGES), this.thread.handle, options, this.control);
    const checksum = new Int32Array(snap.buffer, snap.byteOffset, 12)[8] >>> 0;
    Atomics.store(ctl, CTL_SNAPSHOT_BYTES, snap.byteLength);
    const memoryChecksum = req.verify ? imageChecksum(snap, this.control) >>> 0 : undefined;
    Atomics.store(ctl, CTL_ACK_TIMEOUT_MS, req.ackTimeoutMs);
    const sealMs = performance.now() - t0;
    trace('P', 'posted');
    post(ctl);
    return { sealMs, posted: performance.now(), bytes: snap.byteLength, checksum, memoryChecksum };
  }

  #outcome(copy: { claimMs: number; stopMs: number; copyMs: number }, sealed: Sealed): ForkOutcome {
    const ctl = this.ctl;
    const r = Atomics.load(ctl, CTL_RESULT);
    trace('P', 'returned', r);
    const msg = readMessage(ctl);
    const us = (w: number) => Atomics.load(ctl, w) / 1000;
    const out: ForkOutcome = {
      pid: r,
      checksum: sealed.checksum,
      bytes: sealed.bytes,
      timings: {
        claimMs: copy.claimMs,
        stopMs: copy.stopMs, copyMs: copy.copyMs, sealMs: sealed.sealMs, handoffMs: performance.now() - sealed.posted,
        childWaitMs: us(CTL_T_CHILD_US), transferMs: us(CTL_T_TRANSFER_US), ackMs: us(CTL_T_ACK_US),
        childReadMs: us(CTL_T_READ_US), childRestoreMs: us(CTL_T_RESTORE_US), cold: Atomics.load(ctl, CTL_T_COLD) === 1,
      },
    };
    if (sealed.memoryChecksum !== undefined) out.memoryChecksum = sealed.memoryChecksum;
    release(ctl);
    if (r < 0) throw errorFor(r, `fork failed: ${msg}`, 'fork');
    return out;
  }

  // A server that died (its exit noticed by itself or by the service) fails
  // the request at once: the forking thread never waits on a dead server.
  #checkServerAlive(): void {
    if (Atomics.load(this.ctl, CTL_SERVER) === SERVER_GONE) serverGone(this.ctl, 'the fork server died during the fork');
  }

  #before(): void {
    for (let i = this.#hooks.length - 1; i >= 0; i--) this.#hooks[i].before?.();
  }

  /** The claimant of the control block (0: none), for diagnostics. */
  get owner(): number {
    return Atomics.load(this.ctl, CTL_OWNER);
  }
}

// Any failure to stop the world in time is a refusal (EAGAIN), on time.
function refusal(e: unknown): unknown {
  if (e instanceof StopTimeoutError) return new ForkRefusedError(e.stragglers, e.message);
  if (e instanceof StopBusyError) return new ForkRefusedError([], e.message);
  return e;
}
