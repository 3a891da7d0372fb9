// The browser fork server: a module Worker, not registered in the core, whose
// event loop is always free, running the fork-server core (host/fork/server.ts)
// with in-page children. A child "process" is a fresh worker group inside the
// page: a warm child Worker (host/browser/fork-child.ts) that has compiled
// nothing (the Modules are shared), made its memory, instances and runtime
// object and imported its continuation while it waited in the pool. By the
// time a request arrives the parent's world runs again: the forking thread has
// copied the snapshot into the staging area of the control block, and the
// child reads it from there itself (shared memory: nothing is copied through
// this worker). Ending a child ends the workers the page made for it
// (page-made.ts), so a child group ends as a whole.
import { ForkServerError } from '../errors.js';
import { PAGE, controlWords, serverGone } from '../fork/protocol.js';
import { createForkServer } from '../fork/server.js';
import type { ChildLink, ServerPlatform } from '../fork/carrier.js';
import type { ChildEvent } from '../fork/child.js';
import { EXIT_FAILED } from '../fork/status.js';
import type { LinkedModules } from '../modules.js';
import {
  CHILD_ERROR_MESSAGE, CLOSE_MESSAGE, END_CHILD_MESSAGE, HELLO_MESSAGE, SPAWN_CHILD_MESSAGE, exitWhenHeard, firstMessage, takePagePid,
  type BrowserWorkerStart,
} from './platform.js';
import type { ForkServerInit } from '../platform.js';
import type { ChildWarm } from './fork-child.js';
import { hostLink, makeWorker, type MadeWorker } from './page-made.js';

const CHILD_ENTRY = new URL('./fork-child.js', import.meta.url);
// Firefox 153 now and then never delivers the first messages between a fresh
// nested worker and this one (the child loads, then neither side hears the
// other): a child not heard from in time is replaced, a few times over. A
// worker whose script cannot load may fail silently (Firefox fires no error
// event for a nested module worker that never loads): a child not heard from
// in time counts as not spawned. Once heard, a child has longer to warm up
// (its instances, its runtime object, the checksum's optimised code).
const HELLO_TIMEOUT_MS = 3000;
const READY_TIMEOUT_MS = 20_000;
const READY_ATTEMPTS = 4;

const start = await firstMessage<BrowserWorkerStart<ForkServerInit>>();
const init = start.init;
const ctl = controlWords(init.control);
// A script error ends this worker: no request may wait on a server that is gone.
self.addEventListener('error', () => serverGone(ctl, 'the fork server failed'));
const host = hostLink();
const { module, modules, delegate, pids } = await new Promise<{ module: WebAssembly.Module; modules: LinkedModules; delegate: boolean; pids: SharedArrayBuffer }>((resolve, reject) =>
  host.addEventListener('message', (e) => {
    const m = e.data as { type: string; module?: WebAssembly.Module; modules?: LinkedModules; delegate?: boolean; pids?: SharedArrayBuffer; message?: string };
    if (m.type === 'module') resolve({ module: m.module!, modules: m.modules ?? {}, delegate: m.delegate === true, pids: m.pids! });
    else reject(new ForkServerError(`fork server: no core module: ${m.message}`));
  }, { once: true }));

// Children whose Worker lives on the owner's side (delegate): the owner
// reports a script error by id.
const delegated = new Map<number, () => void>();
let nextChildId = 1;
host.addEventListener('message', (e) => {
  const m = e.data as { type?: string; id?: number };
  if (m.type === CHILD_ERROR_MESSAGE) delegated.get(m.id!)?.();
});

/** The server's side of a child: a port to it. */
interface Port {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', cb: (e: MessageEvent) => void): void;
}

/**
 * A child "process": a Worker the page makes (page-made.ts), to which this
 * server talks over a MessagePort. Where the owner is the page, the owner
 * makes and ends it on this server's request; where the owner is a fork
 * child's main thread (which may block), the page does on this server's own
 * request. Ending a child ends the workers made for it: its threads' and its
 * own fork server's, and theirs.
 */
function spawn(event: (e: ChildEvent) => void, gone: (status: number) => void, broken: boolean): ChildLink {
  const entry = broken ? new URL('./no-such-fork-child.js', import.meta.url) : CHILD_ENTRY;
  const id = nextChildId++;
  let ready = false;
  let ended = false;
  let port: Port;
  let made: MadeWorker | undefined;
  const end = (status: number) => {
    if (ended) return;
    ended = true;
    clearTimeout(silent);
    port.postMessage({ type: CLOSE_MESSAGE });
    made?.terminate();
    if (delegate) {
      delegated.delete(id);
      host.postMessage({ type: END_CHILD_MESSAGE, id });
    }
    gone(status);
  };
  const crashed = () => end(ready ? EXIT_FAILED : -1);
  let heard = false;
  const silent = setTimeout(() => { if (!heard) crashed(); }, HELLO_TIMEOUT_MS);
  if (delegate) {
    const ch = new MessageChannel();
    port = ch.port1;
    ch.port1.start();
    delegated.set(id, crashed);
    host.postMessage({ type: SPAWN_CHILD_MESSAGE, id, url: String(entry), port: ch.port2 }, [ch.port2]);
  } else {
    const w = makeWorker(entry, 'wtc-fork-child');
    w.onError(() => crashed());
    made = w;
    port = { postMessage: (m) => w.postMessage(m), addEventListener: (_type, cb) => w.onMessage(cb) };
  }
  port.addEventListener('message', (e) => {
    const m = e.data as ChildEvent | { type: typeof HELLO_MESSAGE };
    if (m.type === HELLO_MESSAGE) {
      heard = true;
      clearTimeout(silent);
      port.postMessage({
        type: 'warm', module, modules, pages: init.memory.buffer.byteLength / PAGE, maximumPages: init.maximumPages,
        config: init.child, control: init.control, pids,
      } satisfies ChildWarm);
      return;
    }
    if (m.type === 'ready') ready = true;
    event(m);
    // the status is recorded; the group ends after it
    if (m.type === 'exit') end(m.code);
  });
  return {
    send: (m) => port.postMessage(m),
    kill: () => end(EXIT_FAILED),
    dismiss: () => end(EXIT_FAILED),
  };
}

const platform: ServerPlatform = {
  spawn,
  // the child reads the sealed snapshot from the staging area itself
  handoff: async () => ({ message: {} }),
  exit: (code) => exitWhenHeard(code),
  readyTimeoutMs: READY_TIMEOUT_MS,
  readyAttempts: READY_ATTEMPTS,
  parallelWarmups: false,
  nextPid: () => takePagePid(pids),
};

await createForkServer(init, platform).run();
