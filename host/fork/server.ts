// The fork server's core, one for every kind of child and every platform: the
// child wrapper (its events, its deadlines and their failure codes), the warm
// pool and its refill from the observed fork rate, one hand-off (with the
// points where a test's hooks may make it fail, hooks.ts), the exit status
// and the shutdown. A platform brings how a child is started and ended and
// how a snapshot reaches it (ServerPlatform): an OS process reading a file
// (Node 'process' isolation), a worker reading the staging area (Node
// 'thread' isolation, browsers).
//
// A child's exit status is recorded when the child reports it — its program
// has ended and its output is flushed — so waitpid returns then; the process
// or worker group is torn down and reaped in the background, and shutdown
// waits for that too, so a closed runtime leaves nothing running.
import { ForkServerError } from '../errors.js';
import { MAX_FORK_POOL } from '../options.js';
import {
  CTL_ACK_TIMEOUT_MS, CTL_COLD_FORKS, CTL_POOL_READY, CTL_SERVER, CTL_SNAPSHOT_BYTES, CTL_T_COLD,
  FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED, FORK_E_SNAPSHOT, FORK_E_SPAWN, FORK_E_TABLE_FULL, PROC_ENTRIES, SERVER_READY, SHUTDOWN_KILL,
  STAGING_BYTE, procClaim, procExited, procRelease, recordHandoff, serveRequests, stagingView,
} from './protocol.js';
import { loadServerHooks, type ForkServerHooks } from './hooks.js';
import type { ChildAck, ChildEvent } from './child.js';
import type { ForkServerInit } from '../platform.js';

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
   * Makes the sealed snapshot `snap` readable by child `pid`; resolves with
   * the hand-off message for it and what to do once it has read it.
   */
  handoff(snap: Uint8Array, pid: number): Promise<{ message: Record<string, unknown>; done?: () => void }>;
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
}

// A failure with the FORK_E_* number the server reports in CTL_RESULT.
export class ChildFailure extends ForkServerError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}

// The pool grows with the fork rate (forks in the last second), up to the
// most the pool option allows.
const MAX_POOL = MAX_FORK_POOL;
const RATE_WINDOW_MS = 1000;
// Children warm up one at a time, and none starts during a hand-off. A warm-up
// (start, compile the core whole, optimise the checksum) keeps a core busy for
// tens of ms and a process spawn blocks the server's event loop for ms; with
// the pool grown to the fork rate, several warm-ups at once took the cores the
// child being handed off and the server need (bench, process, 0 threads, 1 MiB:
// ack 9.5 and exit_waitpid 7.8 ms of a 24.8 ms p50; one at a time: 8.0 ms).
// But while forks outrun one warm-up at a time — a fork found the pool empty
// in the last RATE_WINDOW_MS — a cold spawn costs far more than that
// contention, so warm-ups then run side by side up to the target (npm start,
// two busy interpreter threads on 2 cores, ~7 forks/s: 195 of 361 forks cold
// one at a time).
const MAX_WARMING = 1;

/** One child: its events turned into promises with deadlines and failure codes. */
class Child {
  readonly link: ChildLink;
  readonly ready: Promise<void>;
  /** The OS process or worker group is gone (status; −1: never started). */
  readonly gone: Promise<number>;
  /** The exit status: reported by the child, or its end when it reported none. */
  readonly status: Promise<number>;
  pid = 0;
  /** Acknowledged: its status is its pid's from now on. */
  acked = false;
  /** The status once known. */
  final?: number;
  ended = false;
  isReady = false;
  lastAck?: ChildAck;
  #listeners = new Set<(e: ChildEvent) => void>();
  #reportStatus!: (s: number) => void;

  constructor(platform: ServerPlatform, broken = false) {
    let resolveGone!: (s: number) => void;
    this.gone = new Promise((r) => { resolveGone = r; });
    this.status = new Promise((r) => { this.#reportStatus = r; });
    void this.gone.then((s) => {
      this.ended = true;
      this.#reportStatus(s);
    });
    this.link = platform.spawn((e) => {
      if (e.type === 'ready') this.isReady = true;
      if (e.type === 'ack') this.lastAck = e;
      if (e.type === 'exit') this.#reportStatus(e.code & 0xff);
      this.#listeners.forEach((l) => l(e));
    }, resolveGone, broken);
    this.ready = this.next('ready', platform.readyTimeoutMs);
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

/** A fork server over the control block of `init` with `platform`'s children. */
export interface ForkServer {
  /** Serves requests until shutdown. */
  run(): Promise<never>;
  /**
   * Last resort when the server's thread dies: ends every child at once and
   * records the acknowledged ones that had not exited as killed by `signal`
   * (no one would be left to record their exit).
   */
  killAll(status: number): Promise<void>;
}

export function createForkServer(init: ForkServerInit, platform: ServerPlatform): ForkServer {
  const ctl = new Int32Array(init.control, 0, STAGING_BYTE / 4);
  const staging = stagingView(init.control);
  const pool: Child[] = [];
  const warming = new Set<Child>();
  // every child not yet gone: shutdown waits for them all
  const live = new Set<Child>();
  const recent: number[] = [];
  let nextPid = 2;
  let shuttingDown = false;
  // a hand-off is in flight (serve has not returned)
  let serving = false;
  // when a fork last found no warm child (warm-ups then run side by side)
  let lastCold = -Infinity;
  // loaded by run() when a test named them (ForkServerInit.testHooks)
  let hooks: ForkServerHooks | undefined;

  const spawn = (broken = false): Child => {
    const c = new Child(platform, broken);
    live.add(c);
    void c.gone.then(() => live.delete(c));
    // the status is the child's to report once its program ends: waitpid returns then
    void c.status.then((s) => {
      c.final = s;
      if (c.acked) procExited(ctl, c.pid, s);
    });
    return c;
  };

  // pool 0: every child is spawned on demand
  const poolTarget = (): number => {
    if (init.child.pool === 0) return 0;
    const now = performance.now();
    while (recent.length && now - recent[0] > RATE_WINDOW_MS) recent.shift();
    return Math.min(MAX_POOL, Math.max(init.child.pool, recent.length));
  };

  const publishPool = (): void => {
    Atomics.store(ctl, CTL_POOL_READY, pool.length);
    Atomics.notify(ctl, CTL_POOL_READY);
  };

  // Starts children until pool + warming reaches the target (MAX_WARMING at a
  // time, each one ready starting the next, unless forks found the pool empty
  // of late), and lets the surplus go once the fork rate has dropped. Not
  // during a hand-off: the request loop refills after it.
  const refill = (): void => {
    if (shuttingDown || serving) return;
    const target = poolTarget();
    while (pool.length > target) {
      pool.pop()!.link.dismiss();
      publishPool();
    }
    const maxWarming = platform.parallelWarmups && performance.now() - lastCold < RATE_WINDOW_MS ? MAX_POOL : MAX_WARMING;
    while (pool.length + warming.size < target && warming.size < maxWarming) {
      const c = spawn();
      warming.add(c);
      c.ready.then(() => {
        // not warming any more: a fork took it while it warmed up
        if (!warming.delete(c)) return;
        if (shuttingDown) c.link.dismiss();
        else {
          pool.push(c);
          publishPool();
          refill();
        }
      }, () => {
        if (warming.delete(c)) void c.kill();
      });
    }
  };

  // A fork that waits for its child is cold, whichever child it waits for:
  // one warming up already is further along than a new one (and a new one
  // would compete with it for the cores).
  const takeChild = (): { child: Child; cold: boolean } => {
    while (pool.length) {
      const c = pool.shift()!;
      publishPool();
      if (!c.ended) return { child: c, cold: false };
    }
    lastCold = performance.now();
    for (const c of warming) {
      warming.delete(c);
      if (!c.ended) return { child: c, cold: true };
    }
    return { child: spawn(), cold: true };
  };

  async function serve(): Promise<number> {
    serving = true;
    try {
      return await handOff();
    } finally {
      serving = false;
    }
  }

  async function handOff(): Promise<number> {
    const test = hooks ? await hooks.request() : undefined;
    const ackMs = Atomics.load(ctl, CTL_ACK_TIMEOUT_MS);
    let total = Atomics.load(ctl, CTL_SNAPSHOT_BYTES);
    recent.push(performance.now());
    const t0 = performance.now();
    // the ack deadline bounds the whole hand-off: a ready child, the transfer, the ack
    const deadline = t0 + ackMs;
    let { child, cold } = test?.brokenChild ? { child: spawn(true), cold: true } : takeChild();
    for (let attempt = 1; ; attempt++) {
      try {
        await child.ready;
        break;
      } catch (e) {
        await child.kill();
        if (test?.brokenChild || attempt >= platform.readyAttempts) throw e;
        child = spawn();
        cold = true;
      }
    }
    Atomics.store(ctl, CTL_T_COLD, cold ? 1 : 0);
    if (cold) Atomics.add(ctl, CTL_COLD_FORKS, 1);
    const t1 = performance.now();
    const pid = child.link.osPid ?? nextPid++;
    const slot = procClaim(ctl, pid);
    if (slot < 0) {
      await child.kill();
      throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
    }
    let done: (() => void) | undefined;
    try {
      if (test?.beforeHandoff) total = await test.beforeHandoff(staging.subarray(0, total));
      const h = await platform.handoff(staging.subarray(0, total), pid);
      done = h.done;
      const t2 = performance.now();
      if (t2 >= deadline) throw new ChildFailure(FORK_E_ACK_TIMEOUT, `the hand-off took longer than the ack timeout of ${ackMs} ms`);
      const acked = child.next('ack', deadline - t2);
      child.link.send({ ...h.message, type: 'go', config: init.child });
      child.pid = pid;
      await acked;
      // the status is its pid's from now on (one reported already is recorded now)
      child.acked = true;
      if (child.final !== undefined) procExited(ctl, pid, child.final);
      recordHandoff(ctl, [t0, t1, t2, performance.now()], child.lastAck);
      return pid;
    } catch (e) {
      await child.kill();
      procRelease(ctl, slot);
      throw e;
    } finally {
      done?.();
    }
  }

  // Pooled children are let go; running ones are waited for (SHUTDOWN_WAIT)
  // or killed (SHUTDOWN_KILL); every child is gone before the server ends.
  async function shutdown(mode: number): Promise<never> {
    shuttingDown = true;
    const idle = [...pool.splice(0), ...warming];
    publishPool();
    for (const c of idle) c.link.dismiss();
    await Promise.race([Promise.all(idle.map((c) => c.gone)), new Promise((r) => setTimeout(r, 5000))]);
    await Promise.all(idle.map((c) => c.kill()));
    if (mode === SHUTDOWN_KILL) for (const c of live) c.link.kill();
    await Promise.all([...live].map((c) => c.gone));
    platform.exit(0);
    return new Promise<never>(() => {});
  }

  return {
    async run() {
      hooks = await loadServerHooks(init, { control: ctl, exit: platform.exit });
      refill();
      Atomics.store(ctl, CTL_SERVER, SERVER_READY);
      Atomics.notify(ctl, CTL_SERVER);
      // a rising fork rate grows the pool before the next request needs it, a
      // falling one shrinks it; children are started after a hand-off, not
      // during it, where they would compete with the restoring child for CPU
      return serveRequests(ctl, {
        serve,
        failureCode: (e) => (e instanceof ChildFailure ? e.errno : FORK_E_SPAWN),
        shutdown,
        refill,
        idle: refill,
      });
    },
    killAll(status) {
      shuttingDown = true;
      for (const c of live) {
        c.link.kill();
        if (c.acked) procExited(ctl, c.pid, status);
      }
      return Promise.all([...live].map((c) => c.gone)).then(() => {});
    },
  };
}
