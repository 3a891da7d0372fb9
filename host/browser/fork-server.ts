// The browser fork server: a module Worker, not registered in the core, whose
// event loop is always free, speaking the same control-block protocol as the
// Node server (host/fork-bridge.ts states it). A child "process" is a fresh
// worker group inside the page: a warm child Worker (host/browser/fork-child.ts)
// that has compiled nothing (the Module is shared), allocated its memory and
// imported its continuation while it waited in the pool. On a fork the server
// lets the child go; the child copies the parent's live memory into its own
// while the forking thread holds the stopped world and marks the copy done
// (CTL_COPIED), so the parent's world runs again; the child's ack completes
// the fork. Terminating a child Worker ends its nested workers too,
// so a child group ends as a whole.
import {
  CTL_ACK_TIMEOUT_MS, CTL_FAULT, CTL_HANDLE, CTL_POOL_READY, CTL_RESULT,
  CTL_SERVER_READY, CTL_SHUTDOWN, CTL_STATE, CTL_VERIFY, FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED, FORK_E_SNAPSHOT, FORK_E_SPAWN,
  FORK_E_TABLE_FULL, FORK_FAULTS, PAGE, PROC_BYTE, PROC_ENTRIES, PROC_EXITED, PROC_FREE, PROC_RUNNING, ST_DONE, ST_REQUEST,
  ST_TAKEN, readForkData, writeMessage,
} from '../fork-bridge.js';
import { waitAsync } from '../wait.js';
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
const ctl = new Int32Array(init.control);
const { module, delegate } = await new Promise<{ module: WebAssembly.Module; delegate: boolean }>((resolve, reject) =>
  self.addEventListener('message', (e) => {
    const m = e.data as { type: string; module?: WebAssembly.Module; delegate?: boolean; message?: string };
    if (m.type === 'module') resolve({ module: m.module!, delegate: m.delegate === true });
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

class ChildFailure extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
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
          type: 'warm', module, pages: init.memory.buffer.byteLength / PAGE, maximumPages: init.maximumPages,
          continuation: init.child.continuation, parent: init.memory, control: init.control,
        } satisfies ChildWarm);
        return;
      }
      if (m.type === 'ready') this.isReady = true;
      if (m.type === 'exit') this.#end(m.code);
      this.#listeners.forEach((l) => l(m));
    });
    this.ready = this.next('ready', readyMs);
    this.ready.catch(() => {});
    void this.exited.then((status) => recordExit(this.pid, status));
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

// ---- process table (fork-bridge.ts: PROC_*) ---------------------------------------

const procSlots = () => Array.from({ length: PROC_ENTRIES }, (_, i) => PROC_BYTE / 4 + i * 4);

function claimProc(pid: number): number {
  for (const slot of procSlots()) {
    if (Atomics.compareExchange(ctl, slot + 1, PROC_FREE, PROC_RUNNING) === PROC_FREE) {
      Atomics.store(ctl, slot, pid);
      return slot;
    }
  }
  return -1;
}

function releaseProc(slot: number): void {
  Atomics.store(ctl, slot, 0);
  Atomics.store(ctl, slot + 1, PROC_FREE);
}

function recordExit(pid: number, status: number): void {
  if (pid <= 0) return;
  for (const slot of procSlots()) {
    if (Atomics.load(ctl, slot) === pid && Atomics.load(ctl, slot + 1) === PROC_RUNNING) {
      Atomics.store(ctl, slot + 2, status);
      Atomics.store(ctl, slot + 1, PROC_EXITED);
      Atomics.notify(ctl, slot + 1);
    }
  }
}

// ---- pool --------------------------------------------------------------------------

const pool: Child[] = [];
const live = new Set<Child>();
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

function takeChild(): Child {
  const c = pool.shift();
  Atomics.store(ctl, CTL_POOL_READY, pool.length);
  return c ?? track(new Child());
}

// ---- one fork ------------------------------------------------------------------------

async function serve(): Promise<number> {
  const handle = Atomics.load(ctl, CTL_HANDLE);
  const fault = FORK_FAULTS[Atomics.load(ctl, CTL_FAULT)] ?? 'none';
  const ackMs = Atomics.load(ctl, CTL_ACK_TIMEOUT_MS);
  const verify = Atomics.load(ctl, CTL_VERIFY) === 1;
  let child = fault === 'spawn' ? track(new Child(new URL('./no-such-fork-child.js', import.meta.url), SPAWN_FAULT_READY_MS)) : takeChild();
  void refill(); // the next warm child starts now, ahead of the next fork
  for (let attempt = 1; ; attempt++) {
    try {
      await child.ready;
      break;
    } catch (e) {
      await child.kill();
      if (fault === 'spawn' || attempt === READY_ATTEMPTS) throw e;
      child = track(new Child());
    }
  }
  const pid = nextPid++;
  const slot = claimProc(pid);
  if (slot < 0) {
    await child.kill();
    throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
  }
  child.pid = pid;
  try {
    // The child copies the parent's memory into its own (the forking thread
    // holds the stopped world, so nobody writes) and marks CTL_COPIED. The
    // child's memory never enters this worker: memories pinned here until
    // this worker's next GC would exhaust the engine's Wasm address space
    // (V8 reserves ~10 GiB per memory) after some hundred forks.
    const acked = child.next('ack', ackMs);
    const options = { ...init.child, data: JSON.parse(readForkData(ctl) || 'null'), verify };
    child.worker.postMessage({ type: 'go', handle, options, fault } satisfies ChildGo);
    await acked;
    return pid;
  } catch (e) {
    await child.kill();
    releaseProc(slot);
    throw e;
  }
}

async function shutdown(): Promise<never> {
  shuttingDown = true;
  await Promise.all([...live].map((c) => c.kill()));
  exitWhenHeard(0);
  return new Promise<never>(() => {});
}

async function main(): Promise<void> {
  await refill();
  Atomics.store(ctl, CTL_SERVER_READY, 1);
  Atomics.notify(ctl, CTL_SERVER_READY);
  for (;;) {
    const s = Atomics.load(ctl, CTL_STATE);
    if (s !== ST_REQUEST) {
      if (Atomics.load(ctl, CTL_SHUTDOWN)) await shutdown();
      await waitAsync(ctl, CTL_STATE * 4, s, 100);
      continue;
    }
    Atomics.store(ctl, CTL_STATE, ST_TAKEN);
    let result: number;
    let message = '';
    try {
      result = await serve();
    } catch (e) {
      result = e instanceof ChildFailure ? e.code : FORK_E_SPAWN;
      message = e instanceof Error ? e.message : String(e);
    }
    writeMessage(ctl, message);
    Atomics.store(ctl, CTL_RESULT, result);
    Atomics.store(ctl, CTL_STATE, ST_DONE);
    Atomics.notify(ctl, CTL_STATE);
    void refill();
  }
}

await main();
