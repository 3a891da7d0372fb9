// Every Worker of a page is made by the page's own thread. Firefox 153 now and
// then hangs a worker thread inside `new Worker()` (its event loop stops for
// good: its timers no longer fire), or starts a nested worker whose script
// never runs; a page's `new Worker()` was never seen to. So a worker that
// wants a worker (a fork child's carrier starting a thread's worker or its
// fork server, a fork server nested in a child starting a child) asks the
// page over its maker port, with a MessagePort for the new worker's end of
// the conversation: the new worker talks to its creator over that port as a
// nested worker would over `self`. The page keeps each worker's makes as its
// group and ends a group with its maker, as a nested group ended with its
// host.
//
// Worker side: `makeWorker` and the link to one's creator (`hostLink`), set
// by `takeStart` from the first messages a worker gets.

/** Page → a worker it made: the port on which it asks the page for workers (before any other message). */
const MAKER_MESSAGE = '__wtc_maker';
/** Page → a worker made for another: the port to its creator (after MAKER_MESSAGE). */
export const PORT_MESSAGE = '__wtc_port';
/**
 * Posted by an entry script once its message listener is installed. Messages
 * are sent only after it: Firefox may lose a message posted to a module worker
 * before its module has run, and the worker then waits forever.
 */
export const HELLO_MESSAGE = '__wtc_hello';

/** Worker → page, on the maker port. */
type MakerRequest = { type: 'make'; id: number; url: string; name: string; port: MessagePort } | { type: 'end'; id: number };
/** Page → worker, on the maker port: a worker it asked for failed to load or threw. */
type MakerEvent = { type: 'error'; id: number; message: string };

/** A worker as its creator sees it: a Worker (on the page) or a port to one the page made. */
export interface MadeWorker {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onMessage(cb: (e: MessageEvent) => void): void;
  onError(cb: (message: string) => void): void;
  /** Ends the worker and every worker made for it (the page ends them). */
  terminate(): void;
}

/** What a worker uses where it would use `self`: its creator's end. */
export interface HostLink {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', cb: (e: MessageEvent) => void, opts?: AddEventListenerOptions): void;
}

const inPage = typeof document !== 'undefined';

// ---- the page ----------------------------------------------------------------

/** Each page-made worker's makes: ended with it. */
const groups = new Map<Worker, Set<Worker>>();

function endGroup(w: Worker): void {
  w.terminate();
  const g = groups.get(w);
  groups.delete(w);
  for (const c of g ?? []) endGroup(c);
}

/** On the page: a Worker given its maker port once it says hello; `onHello` runs after that (the creator's own). */
function pageWorker(url: string | URL, name: string, onHello?: (w: Worker) => void): Worker {
  const w = new Worker(url, { type: 'module', name });
  groups.set(w, new Set());
  const hello = (e: MessageEvent) => {
    if ((e.data as { type?: string })?.type !== HELLO_MESSAGE) return;
    w.removeEventListener('message', hello);
    if (!groups.has(w)) return;
    const ch = new MessageChannel();
    serveMaker(w, ch.port1);
    w.postMessage({ type: MAKER_MESSAGE, port: ch.port2 }, [ch.port2]);
    onHello?.(w);
  };
  w.addEventListener('message', hello);
  return w;
}

function serveMaker(owner: Worker, port: MessagePort): void {
  const made = new Map<number, Worker>();
  port.onmessage = (e) => {
    const m = e.data as MakerRequest;
    if (m.type === 'end') {
      const w = made.get(m.id);
      made.delete(m.id);
      if (w) {
        groups.get(owner)?.delete(w);
        endGroup(w);
      }
      return;
    }
    const group = groups.get(owner);
    if (!group) return; // its maker has ended: so does what it asked for
    const w = pageWorker(m.url, m.name, (c) => c.postMessage({ type: PORT_MESSAGE, port: m.port }, [m.port]));
    made.set(m.id, w);
    group.add(w);
    w.addEventListener('error', (ev) => {
      ev.preventDefault();
      port.postMessage({ type: 'error', id: m.id, message: ev.message || `${m.url}: script error` } satisfies MakerEvent);
    });
  };
}

// ---- a worker ----------------------------------------------------------------

let maker: MessagePort | undefined;
let nextMadeId = 1;
const madeErrors = new Map<number, (message: string) => void>();
let link: HostLink | undefined;

/** The creator's end: `self` for a worker the page made for itself, the port for one made for a worker. */
export function hostLink(): HostLink {
  return link ?? (self as unknown as HostLink);
}

/**
 * In an entry script: resolves with the first message from its creator after announcing it listens, taking the
 * page's maker port and, for a worker made for another worker, the port to it (then the hello goes there).
 */
export function takeStart<T>(): Promise<T> {
  return new Promise<T>((resolve) => {
    const onSelf = (e: MessageEvent) => {
      const m = e.data as { type?: string; port?: MessagePort };
      if (m?.type === MAKER_MESSAGE) {
        maker = m.port!;
        maker.onmessage = (ev) => {
          const r = ev.data as MakerEvent;
          madeErrors.get(r.id)?.(r.message);
        };
        return;
      }
      self.removeEventListener('message', onSelf);
      if (m?.type !== PORT_MESSAGE) {
        resolve(e.data as T);
        return;
      }
      const port = m.port!;
      link = port;
      port.addEventListener('message', (ev) => resolve(ev.data as T), { once: true });
      port.start();
      port.postMessage({ type: HELLO_MESSAGE });
    };
    self.addEventListener('message', onSelf);
    self.postMessage({ type: HELLO_MESSAGE });
  });
}

/** A module Worker at `url`: made here on a page, else by the page for this worker (its group). */
export function makeWorker(url: string | URL, name: string): MadeWorker {
  if (inPage) {
    const w = pageWorker(url, name);
    return {
      postMessage: (m, transfer) => w.postMessage(m, transfer ?? []),
      onMessage: (cb) => w.addEventListener('message', cb),
      onError: (cb) => w.addEventListener('error', (e) => {
        e.preventDefault();
        cb(e.message || `${String(url)}: script error`);
      }),
      terminate: () => endGroup(w),
    };
  }
  if (!maker) throw new Error('makeWorker: this worker has no maker port (it was not made by a page)');
  const m = maker;
  const id = nextMadeId++;
  const ch = new MessageChannel();
  m.postMessage({ type: 'make', id, url: String(url), name, port: ch.port2 } satisfies MakerRequest, [ch.port2]);
  ch.port1.start();
  let ended = false;
  return {
    postMessage: (msg, transfer) => ch.port1.postMessage(msg, transfer ?? []),
    onMessage: (cb) => ch.port1.addEventListener('message', cb),
    onError: (cb) => madeErrors.set(id, cb),
    terminate: () => {
      if (ended) return;
      ended = true;
      madeErrors.delete(id);
      m.postMessage({ type: 'end', id } satisfies MakerRequest);
    },
  };
}
