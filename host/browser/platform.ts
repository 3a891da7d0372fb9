// Browser adapter of host/platform.ts: module Workers, the core fetched and
// compiled once (compileStreaming) and the Module shared with every worker.
// Imports nothing from Node, and every import is a relative URL, so a page
// loads the tsc output as plain ES modules (docs: README, "In a browser").
import type { ForkServerInit, Platform, WaitRelay, WorkerInit, WorkerMessage } from '../platform.js';
import { WorkerPool, type PoolableWorker } from '../worker-pool.js';
import { useWaitRelays } from '../wait.js';
import { compileLinked, type LinkedModules, type LinkedName } from '../modules.js';
import { wasmOfChild, type WasmBuild } from '../options.js';
import { WorkerError } from '../errors.js';
import { HELLO_MESSAGE, PORT_MESSAGE, hostLink, makeWorker, takeStart, type MadeWorker } from './page-made.js';

const BUILD_DIR = new URL('../../../build/', import.meta.url);
const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);
const FORK_SERVER = new URL('./fork-server.js', import.meta.url);

/** What the adapter's entry scripts receive first (a Worker has no workerData). */
export interface BrowserWorkerStart<T> { init: T; threadId: number }
/** Posted by an entry script right before it closes itself: a Worker has no exit event. */
export const EXIT_MESSAGE = '__wtc_exit';
/**
 * The answer to EXIT_MESSAGE: the worker closes itself. Firefox 153 can stall
 * a worker thread that calls terminate() on a nested worker, so workers end
 * themselves when they can; terminate() is kept for forced ends.
 */
export const CLOSE_MESSAGE = '__wtc_close';

/** Fork server → owner: create a child Worker at `url` and hand it `port`; owner → server: its script failed. */
export const SPAWN_CHILD_MESSAGE = '__wtc_spawn_child';
export const END_CHILD_MESSAGE = '__wtc_end_child';
export const CHILD_ERROR_MESSAGE = '__wtc_child_error';
export { HELLO_MESSAGE, PORT_MESSAGE, hostLink } from './page-made.js';

/** In an entry script: announce the exit, then close once the host has heard it. */
export function exitWhenHeard(code: number): void {
  const host = hostLink();
  host.addEventListener('message', (e) => {
    if ((e.data as { type?: string })?.type === CLOSE_MESSAGE) self.close();
  });
  host.postMessage({ type: EXIT_MESSAGE, code });
}

/** In an entry script: resolves with the first message from its creator after announcing we listen (page-made.ts). */
export const firstMessage = takeStart;

function wasmUrl(build: WasmBuild): URL {
  return build instanceof URL ? build : new URL(build === 'debug' ? 'core.debug.wasm' : 'core.wasm', BUILD_DIR);
}

const modules = new Map<string, Promise<WebAssembly.Module>>();
const linkedModules = new Map<string, Promise<LinkedModules>>();

// The linked modules a runtime asked for, compiled once per build and list in this thread.
function linkedFor(platform: Platform, build: WasmBuild, names: readonly LinkedName[]): Promise<LinkedModules> {
  const key = `${build === 'debug' ? 'debug' : 'release'}:${names.join(',')}`;
  let m = linkedModules.get(key);
  if (!m) {
    m = compileLinked(platform, build, names);
    linkedModules.set(key, m);
    m.catch(() => linkedModules.delete(key));
  }
  return m;
}

/**
 * A Worker seen through PlatformWorker. Ids are assigned here (browsers have no
 * thread ids); the exit event is synthesised from the entry's last message, a
 * script error, or terminate(). Every one is made by the page (page-made.ts),
 * here or on this worker's request; workers close themselves once their host
 * has heard their exit message.
 */
// A worker whose script never runs says nothing and fails nothing: one not
// heard from in time is replaced by a fresh one, a few times over, then fails
// naming itself, rather than leaving its thread's start waiting for ever.
const HELLO_DEADLINE_MS = 10_000;
const START_ATTEMPTS = 3;

class BrowserWorker implements PoolableWorker {
  #w?: MadeWorker;
  #exited = false;
  readonly #onMessage: ((e: MessageEvent) => void)[] = [];
  #pending: unknown[] | undefined = [];
  readonly #onExit: ((code: number) => void)[] = [];
  readonly #onError: ((e: unknown) => void)[] = [];

  readonly #children = new Map<number, MadeWorker>();

  constructor(entry: URL, init: WorkerInit | ForkServerInit, readonly threadId: number) {
    this.post({ init, threadId } satisfies BrowserWorkerStart<WorkerInit | ForkServerInit>);
    this.#start(entry);
  }

  #start(entry: URL, attempt = 1): void {
    const threadId = this.threadId;
    const w = makeWorker(entry, `wtc-${threadId}`);
    this.#w = w;
    const silent = setTimeout(() => {
      if (this.#w !== w || !this.#pending || this.#exited) return;
      w.terminate();
      if (attempt < START_ATTEMPTS) {
        this.#start(entry, attempt + 1);
        return;
      }
      const err = new WorkerError(`worker ${threadId}: its script (${entry.pathname}) never ran: not heard from in ${START_ATTEMPTS} workers of ${HELLO_DEADLINE_MS} ms each`);
      for (const cb of this.#onError) cb(err);
      this.#exit(1);
    }, HELLO_DEADLINE_MS);
    w.onMessage((e) => {
      if (this.#w !== w) return; // replaced while silent
      const m = e.data as { type?: string; code?: number; id?: number; url?: string; port?: MessagePort };
      if (m?.type === SPAWN_CHILD_MESSAGE) this.#spawnChild(m.id!, m.url!, m.port!);
      if (m?.type === END_CHILD_MESSAGE) {
        this.#children.get(m.id!)?.terminate();
        this.#children.delete(m.id!);
      }
      if (m?.type === EXIT_MESSAGE) {
        w.postMessage({ type: CLOSE_MESSAGE });
        // the page forgets it (and ends what was made for it)
        w.terminate();
        this.#exit(m.code ?? 0);
      }
      if (m?.type === HELLO_MESSAGE && this.#pending) {
        clearTimeout(silent);
        const queued = this.#pending;
        this.#pending = undefined;
        for (const q of queued) w.postMessage(q);
      }
      for (const cb of this.#onMessage) cb(e);
    });
    // A script that fails to load or throws uncaught ends the worker's job:
    // end the worker too, so its slot is marked dead and nobody waits on it.
    w.onError((message) => {
      if (this.#w !== w) return;
      clearTimeout(silent);
      const err = new Error(message || `worker ${threadId}: script error (${entry.pathname})`);
      for (const cb of this.#onError) cb(err);
      w.terminate();
      this.#exit(1);
    });
  }

  // A fork child made for the fork server behind #w, which talks to it over `port`.
  #spawnChild(id: number, url: string, port: MessagePort): void {
    const child = makeWorker(url, 'wtc-fork-child');
    this.#children.set(id, child);
    child.onMessage((e) => {
      if ((e.data as { type?: string })?.type === HELLO_MESSAGE) child.postMessage({ type: PORT_MESSAGE, port }, [port]);
    });
    child.onError(() => this.#w?.postMessage({ type: CHILD_ERROR_MESSAGE, id }));
  }

  #endChildren(): void {
    for (const c of this.#children.values()) c.terminate();
    this.#children.clear();
  }

  /** Posts an adapter message to the worker (the fork server's module). */
  post(message: unknown): void {
    if (this.#pending) this.#pending.push(message);
    else this.#w?.postMessage(message);
  }

  #exit(code: number): void {
    this.#endChildren();
    if (this.#exited) return;
    this.#exited = true;
    for (const cb of this.#onExit) cb(code);
  }

  onMessage(cb: (msg: WorkerMessage) => void): void {
    this.#onMessage.push((e) => {
      const t = (e.data as { type?: string })?.type;
      if (t !== EXIT_MESSAGE && t !== HELLO_MESSAGE) cb(e.data as WorkerMessage);
    });
  }
  onError(cb: (err: unknown) => void): void {
    this.#onError.push(cb);
  }
  onExit(cb: (code: number) => void): void {
    this.#onExit.push(cb);
  }
  /** The page ends the worker and every worker made for it. */
  async terminate(): Promise<number> {
    this.#w?.terminate();
    this.#exit(1);
    return 1;
  }
}

/** A module Worker running wait-relay.ts: blocks in Atomics.wait for us and posts when done. */
function startWaitRelay(): WaitRelay {
  const worker = new Worker(new URL('./wait-relay.js', import.meta.url), { type: 'module' });
  let done: (() => void) | undefined;
  worker.onmessage = () => {
    const d = done;
    done = undefined;
    d?.();
  };
  return {
    wait(buffer, index, value, ms, onDone) {
      done = onDone;
      worker.postMessage({ buffer, index, value, ms });
    },
  };
}
// Every context of this adapter waits through relays where it must: a page
// through its platform, and its workers, which run no runtime of their own,
// because their entry scripts load this module.
useWaitRelays(startWaitRelay);

/** Thrown by exit() in a fork child to unwind its continuation. */
export class ProcessExit extends Error {
  constructor(readonly status: number) {
    super(`process exited with status ${status}`);
  }
}

/**
 * The count in-page children take their pids from (pagePids): a word the page makes with its first fork server and
 * every server and child of the page shares. The page's own process is pid 1, as a process no fork started.
 */
export const newPagePids = (): SharedArrayBuffer => new SharedArrayBuffer(4);
export const takePagePid = (pids: SharedArrayBuffer): number => Atomics.add(new Int32Array(pids), 0, 1) + 2;

export interface BrowserPlatformOptions {
  /** A page's main thread must not block; a worker (a fork child's main thread) may. */
  canBlock: boolean;
  /** A fork child's: the page's pid count (its own fork server numbers the grandchildren from it). */
  pids?: SharedArrayBuffer;
  /** This main thread's id (0 on a page; fork children keep 0 too: ids are per memory). */
  mainThreadId?: number;
  /** Ends this in-page process (a fork child): posts its status and closes the worker. */
  exit?: (code: number) => never;
}

export function browserPlatform(o: BrowserPlatformOptions): Platform {
  let nextThreadId = (o.mainThreadId ?? 0) + 1;
  // Job workers are started once and reused (host/worker-pool.ts).
  const pool = new WorkerPool((init) => new BrowserWorker(WORKER_ENTRY, init, nextThreadId++));
  // made on the first fork: a page that is not cross-origin isolated has no SharedArrayBuffer (createRuntime says so)
  let pids = o.pids;
  return {
    async loadWasm(build) {
      const r = await fetch(wasmUrl(build));
      if (!r.ok) throw new Error(`fetching ${wasmUrl(build)}: HTTP ${r.status}`);
      return r.arrayBuffer();
    },
    compileWasm(build) {
      const url = String(wasmUrl(build));
      let m = modules.get(url);
      if (!m) {
        m = WebAssembly.compileStreaming(fetch(url)).catch(async (e) => {
          // compileStreaming needs application/wasm; fall back to bytes
          if (!(e instanceof TypeError)) throw e;
          return WebAssembly.compile(await this.loadWasm(build));
        });
        modules.set(url, m);
        m.catch(() => modules.delete(url));
      }
      return m;
    },
    async loadLinkedWasm(name, debug) {
      const url = new URL(`${name}${debug ? '.debug' : ''}.wasm`, BUILD_DIR);
      const r = await fetch(url);
      if (!r.ok) throw new Error(`fetching ${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    },
    spawnWorker(init) {
      return pool.spawn(init);
    },
    // a fork child's first thread: its worker started, its job module loaded, while the child waits in the pool
    warmWorker(init) {
      pool.warm(init);
    },
    releaseWorkers(memory) {
      pool.release(memory);
    },
    startForkServer(init) {
      const server = new BrowserWorker(FORK_SERVER, init, nextThreadId++);
      // the modules the runtime compiled, shared rather than compiled again in every child
      const build = wasmOfChild(init.child.wasm);
      // a page never blocks, so it can create the server's children on request
      void Promise.all([this.compileWasm!(build), linkedFor(this, build, init.child.linked)]).then(
        ([module, modules]) => server.post({ type: 'module', module, modules, delegate: !o.canBlock, pids: (pids ??= newPagePids()) }),
        (e) => server.post({ type: 'module-failed', message: String(e) }));
      return server;
    },
    startWaitRelay,
    exit: o.exit,
    mainThreadId: o.mainThreadId ?? 0,
    mainThreadCanBlock: o.canBlock,
  };
}

/** A page's main thread: never blocks. */
export const pagePlatform: Platform = browserPlatform({ canBlock: false });
