// The fork server's core, one for every kind of child and every platform: the
// warm pool of children (host/fork/carrier.ts) and its refill from the forks
// no recycled child answered, one hand-off (with the points where a test's
// hooks may make it fail, hooks.ts), the exit status and the shutdown. A platform brings how a child
// is started and ended and how a snapshot reaches it (ServerPlatform): an OS
// process reading a file (Node 'process' isolation), a worker reading the
// staging area (Node 'thread' isolation, browsers).
//
// A child's exit status is recorded when the child reports it — its program
// has ended and its output is flushed — so waitpid returns then; the process
// or worker group is torn down and reaped in the background, and shutdown
// waits for that too, so a closed runtime leaves nothing running.
import { MAX_FORK_POOL } from '../options.js';
import {
  CTL_ACK_TIMEOUT_MS, CTL_COLD_FORKS, CTL_RECYCLED_FORKS, CTL_POOL_READY, CTL_SERVER, CTL_SNAPSHOT_BYTES, CTL_T_COLD,
  FORK_E_ACK_TIMEOUT, FORK_E_SPAWN, FORK_E_TABLE_FULL, PROC_ENTRIES, SERVER_READY, SHUTDOWN_KILL,
  controlWords, procClaim, procExited, procFind, procRelease, recordHandoff, serveRequests, stagingView,
} from './protocol.js';
import { SIGKILL, killDone, pendingKill, signaled } from './exits.js';
import { loadServerHooks, type ForkServerHooks } from './hooks.js';
import { Carrier, Child, ChildFailure, type ServerPlatform } from './carrier.js';
import type { ForkServerInit } from '../platform.js';
import { trace } from './trace.js';
import { loadParentService, serveParentCall, type ParentService, type ParentServiceChild } from './parent-calls.js';

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
  const ctl = controlWords(init.control);
  const staging = stagingView(init.control);
  const pool: Child[] = [];
  const warming = new Set<Child>();
  // every child not yet gone: shutdown waits for them all
  const live = new Set<Child>();
  // every carrier not yet gone: a recycled one outlives its children
  const carriers = new Set<Carrier>();
  // when forks were served, and when children came back recycled
  const recent: number[] = [];
  const recycled: number[] = [];
  // at each hand-off: how many children were acknowledged and had not reported their status
  const runningAt: [number, number][] = [];
  const idleSince = new WeakMap<Child, number>();
  let nextPid = 2;
  let shuttingDown = false;
  // a hand-off is in flight (serve has not returned)
  let serving = false;
  // when a fork last found no warm child (warm-ups then run side by side)
  let lastCold = -Infinity;
  // loaded by run() when a test named them (ForkServerInit.testHooks)
  let hooks: ForkServerHooks | undefined;
  // loaded by run(): the runtime's fork.parentService, serving its children's calls over the parent's memory
  let service: ParentService | undefined;
  // a child as the service sees it, from its hand-off on
  const served = new WeakMap<Child, ParentServiceChild>();
  let nextKey = 1;
  // a child's status word: a killed child's records the signal, whatever its carrier's end reported
  const statusWord = (c: Child, s: number): number => (c.killedBy !== undefined ? signaled(c.killedBy) : s);

  // The status is the child's to report once its program ends: waitpid returns then.
  const track = (c: Child): Child => {
    live.add(c);
    c.onCall = (m) => serveParentCall(service, init.memory, served.get(c), m, (r) => c.link.send(r));
    void c.gone.then(() => live.delete(c));
    void c.status.then((s) => {
      c.final = s;
      trace('S', 'status', c.pid);
      if (c.acked) procExited(ctl, c.pid, statusWord(c, s));
    });
    return c;
  };

  const spawn = (broken = false): Child => {
    const carrier = new Carrier(platform, broken, (next) => {
      recycled.push(performance.now());
      track(next);
      // pool 0 asks for no idle children: every child is spawned for its fork
      if (shuttingDown || init.child.pool === 0) next.link.dismiss();
      else warm(next);
    });
    carriers.add(carrier);
    void carrier.gone.then(() => carriers.delete(carrier));
    return track((carrier.current = new Child(platform, carrier)));
  };

  // How many children to keep ready or warming (pool 0: every child is
  // spawned on demand): the forks of the last RATE_WINDOW_MS that no recycled
  // child answered, and one more than the most children that ran at once in
  // it — a thread that forks in a loop forks again while its last child's
  // carrier is still recycling, so it needs a second one ready.
  const demand = (): number => {
    if (init.child.pool === 0) return 0;
    const now = performance.now();
    for (const times of [recent, recycled]) while (times.length && now - times[0] > RATE_WINDOW_MS) times.shift();
    while (runningAt.length && now - runningAt[0][0] > RATE_WINDOW_MS) runningAt.shift();
    const concurrent = runningAt.length ? 1 + Math.max(...runningAt.map(([, n]) => n)) : 0;
    return Math.min(MAX_POOL, Math.max(init.child.pool, recent.length - recycled.length, concurrent));
  };

  const publishPool = (): void => {
    Atomics.store(ctl, CTL_POOL_READY, pool.length);
    Atomics.notify(ctl, CTL_POOL_READY);
  };

  // A warming child joins the pool once ready (unless a fork took it meanwhile).
  const warm = (c: Child): void => {
    warming.add(c);
    c.ready.then(() => {
      if (!warming.delete(c)) return;
      if (shuttingDown) c.link.dismiss();
      else {
        idleSince.set(c, performance.now());
        pool.push(c);
        publishPool();
        refill();
      }
    }, () => {
      if (warming.delete(c)) void c.kill();
    });
  };

  // Starts children until pool + warming meets the demand (MAX_WARMING at a
  // time, each one ready starting the next, unless forks found the pool empty
  // of late), and lets a surplus child go once it has idled a whole window: a
  // recycled child comes back while the next fork is on its way, and letting
  // it go then would make that fork spawn one. Not during a hand-off: the
  // request loop refills after it.
  const refill = (): void => {
    if (shuttingDown || serving) return;
    const target = demand();
    const now = performance.now();
    for (let i = 0; pool.length > target && i < pool.length;) {
      const c = pool[i];
      if (now - idleSince.get(c)! > RATE_WINDOW_MS) {
        pool.splice(i, 1);
        c.link.dismiss();
        publishPool();
      } else i++;
    }
    const maxWarming = platform.parallelWarmups && now - lastCold < RATE_WINDOW_MS ? MAX_POOL : MAX_WARMING;
    while (pool.length + warming.size < target && warming.size < maxWarming) warm(spawn());
  };

  // A pid is never handed out twice while unreaped: a recycled process child
  // has its OS pid again, so it waits in the pool until its last child is
  // reaped. (procFind misses only CLAIMING entries: this thread's own claims.)
  const pidFree = (c: Child): boolean => c.link.osPid === undefined || procFind(ctl, c.link.osPid) === undefined;

  // A fork that waits for its child is cold, whichever child it waits for:
  // one warming up already (a recycled one, or one started) is further along
  // than a new one (and a new one would compete with it for the cores).
  const takeChild = (): { child: Child; cold: boolean } => {
    for (let i = 0; i < pool.length;) {
      const c = pool[i];
      if (c.ended) pool.splice(i, 1);
      else if (pidFree(c)) {
        pool.splice(i, 1);
        publishPool();
        return { child: c, cold: false };
      } else i++;
    }
    publishPool();
    lastCold = performance.now();
    // a recycling carrier is milliseconds from ready, a new one hundreds
    const waitable = [...warming].filter((c) => !c.ended && pidFree(c));
    const c = waitable.find((w) => w.recycled) ?? waitable[0];
    if (c) {
      warming.delete(c);
      return { child: c, cold: true };
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
    trace('S', 'taken');
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
    if (child.recycled) Atomics.add(ctl, CTL_RECYCLED_FORKS, 1);
    const t1 = performance.now();
    trace('S', 'child', cold ? 'cold' : child.recycled ? 'recycled' : 'warm');
    const pid = child.link.osPid ?? platform.nextPid?.() ?? nextPid++;
    const slot = procClaim(ctl, pid);
    if (slot < 0) {
      await child.kill();
      throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
    }
    try {
      if (test?.beforeHandoff) total = await test.beforeHandoff(staging.subarray(0, total));
      const h = await platform.handoff(staging.subarray(0, total), child.link);
      const t2 = performance.now();
      trace('S', 'written', pid);
      if (t2 >= deadline) throw new ChildFailure(FORK_E_ACK_TIMEOUT, `the hand-off took longer than the ack timeout of ${ackMs} ms`);
      const acked = child.next('ack', deadline - t2);
      child.link.send({ ...h.message, type: 'go', pid, config: init.child });
      child.pid = pid;
      handedOff(child);
      await acked;
      trace('S', 'acked', pid);
      // the status is its pid's from now on (one reported already is recorded now)
      child.acked = true;
      if (child.final !== undefined) procExited(ctl, pid, statusWord(child, child.final));
      runningAt.push([performance.now(), [...live].filter((c) => c.acked && c.final === undefined).length]);
      recordHandoff(ctl, [t0, t1, t2, performance.now()], child.lastAck);
      return pid;
    } catch (e) {
      await child.kill();
      procRelease(ctl, slot);
      throw e;
    }
  }

  // From now on the child's calls are served, and the service hears once when
  // it is gone, however it goes (its program ended on a recycled carrier, it
  // exited, was killed, its hand-off failed, the server shut down with it live).
  const handedOff = (c: Child): void => {
    const who: ParentServiceChild = { key: nextKey++, pid: c.pid };
    served.set(c, who);
    const gone = service?.childGone;
    if (!gone) return;
    void c.gone.then(() => {
      try {
        gone.call(service, who);
      } catch (e) {
        console.error(`fork server: parentService childGone failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  };

  // A parent's kill (host/fork/exits.ts): a child still running ends now,
  // whatever the signal (none can be caught: a child installs no handlers),
  // and its status records the signal. One that exited already keeps its status.
  const serveKill = (): void => {
    const k = pendingKill(ctl);
    if (!k) return;
    const c = [...live].find((x) => x.acked && x.pid === k.pid && x.final === undefined);
    if (c && c.killedBy === undefined) {
      c.killedBy = k.signal;
      void c.kill();
    }
    killDone(ctl);
  };

  const killAndRefill = (): void => {
    serveKill();
    refill();
  };

  // Pooled children are let go; running ones are waited for (SHUTDOWN_WAIT)
  // or killed (SHUTDOWN_KILL); every child and carrier is gone before the server ends.
  async function shutdown(mode: number): Promise<never> {
    shuttingDown = true;
    const idle = [...pool.splice(0), ...warming];
    publishPool();
    for (const c of idle) c.link.dismiss();
    await Promise.race([Promise.all(idle.map((c) => c.gone)), new Promise((r) => setTimeout(r, 5000))]);
    await Promise.all(idle.map((c) => c.kill()));
    if (mode === SHUTDOWN_KILL) {
      for (const c of live) if (c.acked && c.final === undefined) c.killedBy ??= SIGKILL;
      for (const k of carriers) k.link.kill();
    }
    await Promise.all([...live].map((c) => c.gone));
    // a child that ended recycled left its carrier, which the shutdown dismissed as it came back
    while (carriers.size) await Promise.all([...carriers].map((k) => k.gone));
    platform.exit(0);
    return new Promise<never>(() => {});
  }

  return {
    async run() {
      hooks = await loadServerHooks(init, { control: ctl, exit: platform.exit });
      service = await loadParentService(init.child.parentService);
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
        // after each request too: a kill waits for no more than the hand-off in flight, even while forks keep coming
        refill: killAndRefill,
        idle: killAndRefill,
      });
    },
    killAll(status) {
      shuttingDown = true;
      for (const c of live) if (c.acked) procExited(ctl, c.pid, status);
      for (const k of carriers) k.link.kill();
      return Promise.all([...carriers].map((k) => k.gone)).then(() => {});
    },
  };
}
