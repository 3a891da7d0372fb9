// The browser fork server: a module Worker, not registered in the core, whose
// event loop is always free, speaking the control-block protocol of
// host/fork/protocol.ts as the Node server does. A child "process" is a fresh
// worker group inside the page: a warm child Worker (host/browser/fork-child.ts)
// that has compiled nothing (the Modules are shared), allocated its memory and
// imported its continuation while it waited in the pool. By the time a
// request arrives the parent's world runs again: the forking thread has copied
// the snapshot into the staging area of the control block. The server lets a
// warm child go; the child reads the snapshot straight from the staging area
// (shared memory: nothing is copied through this worker, and no child memory
// is ever pinned here) and acknowledges; the server then finishes the request.
// Terminating a child Worker ends its nested workers too, so a child group
// ends as a whole.
import {
  CTL_ACK_TIMEOUT_MS, CTL_FAULT, CTL_POOL_READY, CTL_SERVER, CTL_T_COLD, FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED,
  FORK_E_SNAPSHOT, FORK_E_SPAWN, FORK_E_TABLE_FULL, PAGE, PROC_ENTRIES, SERVER_READY, STAGING_BYTE, procClaim,
  procExited, procRelease, serverGone, recordHandoff, serveRequests,
} from '../fork/protocol.js';
import { FORK_FAULTS } from '../fork/request.js';
import { ForkServerError } from '../errors.js';
import type { LinkedModules } from '../modules.js';
import {
  CHILD_ERROR_MESSAGE, CLOSE_MESSAGE, END_CHILD_MESSAGE, HELLO_MESSAGE, SPAWN_CHILD_MESSAGE, exitWhenHeard, firstMessage,
  type BrowserWorkerStart,
} from './platform.js';
import type { ForkServerInit } from '../platform.js';
import type { ChildEvent, ChildGo, ChildWarm } from './fork-child.js';

const CHILD_ENTRY = new URL('./fork-child.js', import.meta.url);
// Firefox 153 now and then never delivers the first messages between a fresh
// nested worker and this one (the child loads, then neither side hears the
// other): a child not ready in time is replaced, a few times over.
const READY_TIMEOUT_MS = 3000;
const READY_ATTEMPTS = 4;
// A worker whose script cannot load may fail silently (Firefox fires no error
// event for a nested module worker that never loads): a child that is not
// ready in time counts as not spawned.
const SPAWN_FAULT_READY_MS = 3000;
/** Exit status of a child whose script failed outside its continuation. */
const EXIT_CRASHED = 70;

const start = await firstMessage<BrowserWorkerStart<ForkServerInit>>();
const init = start.init;
const ctl = new Int32Array(init.control, 0, STAGING_BYTE / 4);
// A script error ends this worker: no request may wait on a server that is gone.
self.addEventListener('error', () => serverGone(ctl, 'the fork server failed'));
const { module, modules, delegate } = await new Promise<{ module: WebAssembly.Module; modules: LinkedModules; delegate: boolean }>((resolve, reject) =>
  self.addEventListener('message', (e) => {
    const m = e.data as { type: string; module?: WebAssembly.Module; modules?: LinkedModules; delegate?: boolean; message?: string };
    if (m.type === 'module') resolve({ module: m.module!, modules: m.modules ?? {}, delegate: m.delegate === true });
    else reject(new Error(`fork server: no core module: ${m.message}`));
  }, { once: true }));

// Children whose Worker lives on the owner's side (delegate): the owner
// reports a script error by id.
const delegated = new Map<number, Child>();
let nextChildId = 1;
self.addEventListener('message', (e) => {
  const m = e.data as { type?: string; id?: number };
  if (m.type === CHILD_ERROR_MESSAGE) delegated.get(m.id!)?.crashed();
});

let nextPid = 2;

// A failure with the FORK_E_* number the server reports in CTL_RESULT.
class ChildFailure extends ForkServerError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}

/** The server's side of a child: a nested Worker, or a port to a Worker the owner created. */
interface ChildLink {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', cb: (e: MessageEvent) => void): void;
}

/**
 * A child "process". Where the owner never blocks (a page), the owner creates
 * and ends the child Worker and this server talks to it over a MessagePort:
 * Firefox 153 can stall a worker thread that creates a nested worker while
 * another of its nested workers is closing. Where the owner may block (a fork
 * child's main thread), the child is a nested Worker of this server.
 */
class Child {
  readonly worker: ChildLink;
  readonly id = nextChildId++;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  isReady = false;
  pid = 0;
  lastAck?: ChildEvent & { type: 'ack' };
  #resolveExit!: (status: number) => void;
  #listeners = new Set<(e: ChildEvent) => void>();

  constructor(entry: URL = CHILD_ENTRY, readyMs = READY_TIMEOUT_MS) {
    this.exited = new Promise((resolve) => { this.#resolveExit = resolve; });
    if (delegate) {
      const ch = new MessageChannel();
      this.worker = ch.port1;
      ch.port1.start();
      delegated.set(this.id, this);
      self.postMessage({ type: SPAWN_CHILD_MESSAGE, id: this.id, url: String(entry), port: ch.port2 }, { transfer: [ch.port2] });
    } else {
      const w = new Worker(entry, { type: 'module', name: 'wtc-fork-child' });
      w.addEventListener('error', (e) => {
        e.preventDefault();
        this.crashed();
      });
      this.worker = w;
    }
    this.worker.addEventListener('message', (e) => {
      const m = e.data as ChildEvent | { type: typeof HELLO_MESSAGE };
      if (m.type === HELLO_MESSAGE) {
        this.worker.postMessage({
          type: 'warm', module, modules, pages: init.memory.buffer.byteLength / PAGE, maximumPages: init.maximumPages,
          continuation: init.child.continuation, control: init.control,
        } satisfies ChildWarm);
        return;
      }
      if (m.type === 'ready') this.isReady = true;
      if (m.type === 'ack') this.lastAck = m;
      if (m.type === 'exit') this.#end(m.code);
      this.#listeners.forEach((l) => l(m));
    });
    this.ready = this.next('ready', readyMs);
    this.ready.catch(() => {});
    void this.exited.then((status) => { if (this.pid > 0) procExited(ctl, this.pid, status); });
  }

  /** Its script failed to load or threw outside its continuation. */
  crashed(): void {
    this.#end(this.isReady ? EXIT_CRASHED : -1);
  }

  // A delegated child is ended by the owner (a page). A nested child is left
  // to end with this server: Firefox 153 can stall a worker whose nested
  // worker closes (or is terminated) while it creates another, so nothing
  // nested closes while the server lives; the runtime ends the server, and
  // with it every nested child, when it closes.
  #end(status: number): void {
    if (delegate) {
      this.worker.postMessage({ type: CLOSE_MESSAGE });
      delegated.delete(this.id);
      self.postMessage({ type: END_CHILD_MESSAGE, id: this.id });
    }
    this.#resolveExit(status);
  }

  /** Resolves on the event `type`; rejects when the child exits first or on timeout. */
  next(type: 'ready' | 'ack', timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
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
      void this.exited.then((status) => {
        done();
        reject(status === -1
          ? new ChildFailure(FORK_E_SPAWN, 'the child worker could not start')
          : new ChildFailure(FORK_E_CHILD_DIED, `child exited with status ${status} before its ${type}`));
      });
    });
  }

  /** Ends the child group and waits for its exit to be recorded. */
  async kill(): Promise<void> {
    this.#end(EXIT_CRASHED);
    await this.exited;
  }
}

// ---- pool --------------------------------------------------------------------------

const pool: Child[] = [];
const live = new Set<Child>();
const running = new Set<Child>();
let refilling = false;
let shuttingDown = false;

function track(c: Child): Child {
  live.add(c);
  void c.exited.then(() => live.delete(c));
  return c;
}

async function refill(): Promise<void> {
  if (refilling) return;
  refilling = true;
  try {
    for (let failures = 0; pool.length < init.child.pool && !shuttingDown && failures < READY_ATTEMPTS;) {
      const c = track(new Child());
      try {
        await c.ready;
        pool.push(c);
        Atomics.store(ctl, CTL_POOL_READY, pool.length);
        Atomics.notify(ctl, CTL_POOL_READY);
      } catch {
        await c.kill();
        failures++;
      }
    }
  } finally {
    refilling = false;
  }
}

function takeChild(): { child: Child; cold: boolean } {
  const c = pool.shift();
  Atomics.store(ctl, CTL_POOL_READY, pool.length);
  return c ? { child: c, cold: false } : { child: track(new Child()), cold: true };
}

// ---- one fork ------------------------------------------------------------------------

async function serve(): Promise<number> {
  const fault = FORK_FAULTS[Atomics.load(ctl, CTL_FAULT)] ?? 'none';
  const ackMs = Atomics.load(ctl, CTL_ACK_TIMEOUT_MS);
  if (fault === 'server-exit') {
    serverGone(ctl, 'fault injected: server-exit');
    exitWhenHeard(3);
    return new Promise<never>(() => {});
  }
  if (fault === 'server-throw') setTimeout(() => { throw new Error('fault injected: server-throw'); });
  const t0 = performance.now();
  // the ack deadline bounds the whole hand-off: a ready child, the transfer, the ack
  const deadline = t0 + ackMs;
  let { child, cold } = fault === 'spawn'
    ? { child: track(new Child(new URL('./no-such-fork-child.js', import.meta.url), SPAWN_FAULT_READY_MS)), cold: true }
    : takeChild();
  void refill(); // the next warm child starts now, ahead of the next fork
  for (let attempt = 1; ; attempt++) {
    try {
      await child.ready;
      break;
    } catch (e) {
      await child.kill();
      if (fault === 'spawn' || attempt === READY_ATTEMPTS) throw e;
      child = track(new Child());
      cold = true;
    }
  }
  Atomics.store(ctl, CTL_T_COLD, cold ? 1 : 0);
  const t1 = performance.now();
  const pid = nextPid++;
  const slot = procClaim(ctl, pid);
  if (slot < 0) {
    await child.kill();
    throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
  }
  child.pid = pid;
  try {
    if (fault === 'slow-transfer') await new Promise((r) => setTimeout(r, 200));
    const t2 = performance.now();
    if (t2 >= deadline) throw new ChildFailure(FORK_E_ACK_TIMEOUT, `the hand-off took longer than the ack timeout of ${ackMs} ms`);
    // The child reads the sealed snapshot from the staging area itself; only
    // it reads the area until this request is finished (protocol.ts).
    const acked = child.next('ack', deadline - t2);
    child.worker.postMessage({ type: 'go', config: init.child, fault } satisfies ChildGo);
    await acked;
    const t3 = performance.now();
    recordHandoff(ctl, [t0, t1, t2, t3], child.lastAck);
    running.add(child);
    void child.exited.then(() => running.delete(child));
    return pid;
  } catch (e) {
    await child.kill();
    procRelease(ctl, slot);
    throw e;
  }
}

// Pooled children are ended; running ones are waited for (mode 1) or killed (2).
async function shutdown(mode: number): Promise<never> {
  shuttingDown = true;
  const idle = [...live].filter((c) => !running.has(c));
  pool.splice(0);
  Atomics.store(ctl, CTL_POOL_READY, 0);
  await Promise.all(idle.map((c) => c.kill()));
  if (mode === 2) await Promise.all([...running].map((c) => c.kill()));
  await Promise.all([...running].map((c) => c.exited));
  exitWhenHeard(0);
  return new Promise<never>(() => {});
}

async function main(): Promise<void> {
  await refill();
  Atomics.store(ctl, CTL_SERVER, SERVER_READY);
  Atomics.notify(ctl, CTL_SERVER);
  await serveRequests(ctl, {
    serve,
    failureCode: (e) => (e instanceof ChildFailure ? e.errno : FORK_E_SPAWN),
    shutdown,
    refill: () => void refill(),
  });
}

await main();
