// A fork child as the server sees it, and what carries it: the platform's
// link to an OS process or a worker group (ChildLink, ServerPlatform), the
// Carrier that runs one child after another (docs/FORK.md, "Recycled
// children"), and each Child's events turned into promises with deadlines and
// failure codes. host/fork/server.ts pools, hands off and reaps them.
import { ForkServerError } from '../errors.js';
import { FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED, FORK_E_SNAPSHOT, FORK_E_SPAWN } from './protocol.js';
import type { ChildAck, ChildEvent } from './child.js';
import type { ParentCallMessage } from './parent-calls.js';

/** A child as its platform started it. */
export interface ChildLink {
  /** The OS pid, when the child is a process; otherwise the server numbers it. */
  readonly osPid?: number;
  /** Posts a message to the child (the hand-off). */
  send(m: unknown): void;
  /** Ends the child (and its threads) now. */
  kill(): void;
  /** Lets a pooled child go: it ends by itself. */
  dismiss(): void;
}

/** What a platform brings to the server core. */
export interface ServerPlatform {
  /**
   * Starts one child that reports its events to `event` and its end to
   * `gone` (status; −1 when it never started). `broken`: a child that cannot
   * start (a test hook's spawn failure, ForkRequestHooks.brokenChild).
   */
  spawn(event: (e: ChildEvent) => void, gone: (status: number) => void, broken: boolean): ChildLink;
  /**
   * Makes the sealed snapshot `snap` readable by the child its carrier's
   * `link` runs next; resolves with the hand-off message for it.
   */
  handoff(snap: Uint8Array, link: ChildLink): Promise<{ message: Record<string, unknown> }>;
  /** Ends the server thread with `code` (shutdown, a test hook's server death). */
  exit(code: number): void;
  /** How long a new child may take to become ready, and how many tries a hand-off gives it. */
  readyTimeoutMs: number;
  readyAttempts: number;
  /**
   * Whether warm-ups may run side by side when forks outrun them (Node). A
   * browser's never do: Firefox can stall a worker that creates nested workers
   * while others are starting or closing.
   */
  parallelWarmups: boolean;
  /**
   * The pid of a child that is no OS process, when the platform numbers them (a page: one count for the whole page,
   * so that no child's pid is its parent's or any other live process's). Absent: each server counts from 2.
   */
  nextPid?(): number;
}

// A failure with the FORK_E_* number the server reports in CTL_RESULT.
export class ChildFailure extends ForkServerError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}

/**
 * What runs children: an OS process or a worker group, as its platform
 * started it. It runs one child at a time; a child whose program ended
 * cleanly hands it back (an 'exit' event with `recycled`), and it warms up
 * the next child itself, with its compiled modules kept (docs/FORK.md,
 * "Recycled children").
 */
export class Carrier {
  readonly link: ChildLink;
  /** The OS process or worker group is gone (status; −1: never started). */
  readonly gone: Promise<number>;
  /** The child it runs or warms up now. */
  current!: Child;

  constructor(platform: ServerPlatform, broken: boolean, recycled: (next: Child) => void) {
    let resolveGone!: (s: number) => void;
    this.gone = new Promise((r) => { resolveGone = r; });
    this.link = platform.spawn((e) => {
      const c = this.current;
      c.event(e);
      if (e.type === 'exit' && e.recycled) recycled((this.current = new Child(platform, this, true)));
    }, resolveGone, broken);
  }
}

/** One child: its events turned into promises with deadlines and failure codes. */
export class Child {
  readonly link: ChildLink;
  readonly ready: Promise<void>;
  /** The child is gone: its program ended and its carrier moved on, or its carrier is gone (status; −1: never started). */
  readonly gone: Promise<number>;
  /** The exit status: reported by the child, or its carrier's end when it reported none. */
  readonly status: Promise<number>;
  pid = 0;
  /** Acknowledged: its status is its pid's from now on. */
  acked = false;
  /** The status once known. */
  final?: number;
  /** The signal a kill ended it with (host/fork/exits.ts): its status records that, whatever its carrier reported. */
  killedBy?: number;
  ended = false;
  lastAck?: ChildAck;
  /** Serves its calls to the parent's side, set when it is handed off (server.ts); before that a call has no child. */
  onCall?: (m: ParentCallMessage) => void;
  /** Its carrier ran an earlier child. */
  readonly recycled: boolean;
  #listeners = new Set<(e: ChildEvent) => void>();
  #reportStatus!: (s: number) => void;
  #resolveGone!: (s: number) => void;

  constructor(platform: ServerPlatform, readonly carrier: Carrier, recycled = false) {
    this.link = carrier.link;
    this.recycled = recycled;
    this.gone = new Promise((r) => { this.#resolveGone = r; });
    this.status = new Promise((r) => { this.#reportStatus = r; });
    void carrier.gone.then((s) => this.#resolveGone(s));
    void this.gone.then((s) => {
      this.ended = true;
      this.#reportStatus(s);
    });
    this.ready = this.next('ready', platform.readyTimeoutMs);
  }

  event(e: ChildEvent): void {
    // dispatched on receipt: every call sent before the ack is served before the ack is handled
    if (e.type === 'call') return this.onCall?.(e);
    if (e.type === 'ack') this.lastAck = e;
    if (e.type === 'exit') {
      this.#reportStatus(e.code & 0xff);
      // its carrier runs the next child: nothing of this one is left
      if (e.recycled) this.#resolveGone(e.code & 0xff);
    }
    this.#listeners.forEach((l) => l(e));
  }

  /**
   * Resolves on the event `type`; rejects when the child ends first, reports
   * an error, or at the deadline: a child never ready was not spawned
   * (E_SPAWN), one that never acknowledged timed out (E_ACK_TIMEOUT).
   */
  next(type: 'ready' | 'ack', timeoutMs: number): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new ChildFailure(type === 'ready' ? FORK_E_SPAWN : FORK_E_ACK_TIMEOUT, `no ${type} from the child within ${timeoutMs} ms`));
      }, timeoutMs);
      const onEvent = (e: ChildEvent) => {
        if (e.type === type) { done(); resolve(); }
        if (e.type === 'error') { done(); reject(new ChildFailure(FORK_E_SNAPSHOT, e.message)); }
      };
      const done = () => { clearTimeout(timer); this.#listeners.delete(onEvent); };
      this.#listeners.add(onEvent);
      void this.status.then((status) => {
        done();
        reject(status === -1
          ? new ChildFailure(FORK_E_SPAWN, 'the child could not be started')
          : new ChildFailure(FORK_E_CHILD_DIED, `child exited with status ${status} before its ${type}`));
      });
    });
    p.catch(() => {});
    return p;
  }

  /** Ends the child and waits until it is gone, so a failed fork leaks nothing. */
  async kill(): Promise<void> {
    this.link.kill();
    await this.gone;
  }
}
