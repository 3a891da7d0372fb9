// A browser fork child: a Worker that is the main thread of an in-page
// process. Warm: it holds the shared Modules and, through host/fork/child.ts,
// makes its memory, instances and runtime object and imports its continuation
// while it waits in the pool. On 'go' it reads the sealed snapshot straight
// from the staging area of the fork control block (the parent's world already
// runs again), checks it, runs after_fork_child, the continuation's child
// hook, acknowledges, then runs the continuation with result 0. Exit statuses
// as under Node (host/fork/child.ts); the status is posted as the program
// ends, before the worker group is closed.
import { CTL_SNAPSHOT_BYTES, controlWords, stagingView, type ForkControl } from '../fork/protocol.js';
import { readFromBuffer } from '../fork/snapshot.js';
import { prepareChild, type ChildEvent } from '../fork/child.js';
import { EXIT_FAILED, EXIT_REJECTED } from '../fork/status.js';
import { Runtime } from '../runtime.js';
import type { LinkedModules } from '../modules.js';
import { CLOSE_MESSAGE, ProcessExit, browserPlatform, firstMessage, hostLink } from './platform.js';
import type { ForkChildOptions } from '../platform.js';
import { ParentCaller, isReply } from '../fork/parent-calls.js';

export interface ChildWarm {
  type: 'warm'; module: WebAssembly.Module; modules: LinkedModules; pages: number; maximumPages: number; config: ForkChildOptions;
  /** The fork control block: the child reads the snapshot from its staging area. */
  control: ForkControl;
  /** The page's pid count (platform.ts newPagePids): the child's own forks take theirs from it. */
  pids: SharedArrayBuffer;
}
/** `pid`: the child's, as its server numbered it (what fork returned in the parent). */
export interface ChildGo { type: 'go'; config: ForkChildOptions; pid: number }

// The server is reached through `self` (a worker the page made for the page's
// own fork server) or through a port (page-made.ts: a child made for a fork
// server, which hands its end over).
const warm = await firstMessage<ChildWarm>();
const link = hostLink();

const send = (m: ChildEvent) => link.postMessage(m);
// The server answers the exit message with CLOSE_MESSAGE, on which this
// worker closes itself; the page ends the workers made for it.
function exit(code: number): never {
  send({ type: 'exit', code });
  throw new ProcessExit(code);
}
// The link carries the hand-off ('go'), the replies to the child's calls to
// its parent's side (host/fork/parent-calls.ts) and the close, told apart by type.
const caller = new ParentCaller(warm.config.parentService, (m) => {
  link.postMessage(m);
  return true;
});
let nextGo: ((m: ChildGo) => void) | undefined;
const go = new Promise<ChildGo>((resolve) => { nextGo = resolve; });
link.addEventListener('message', (e) => {
  const m = e.data as { type?: string };
  if (m?.type === CLOSE_MESSAGE) {
    caller.gone('the fork server ended this child');
    self.close();
  } else if (isReply(m)) caller.reply(m);
  else if (m?.type === 'go') nextGo?.(m as ChildGo);
});
const platform = browserPlatform({ canBlock: true, exit, pids: warm.pids });
const session = await prepareChild({
  prepareRuntime: Runtime.prepareForkChild,
  platform, module: warm.module, linkedModules: warm.modules, pages: warm.pages, maximumPages: warm.maximumPages, config: warm.config,
});
send({ type: 'ready' });

const { pid } = await go;
try {
  await run();
} catch (e) {
  if (!(e instanceof ProcessExit)) {
    console.error(`fork child: continuation failed: ${e instanceof Error ? e.stack : String(e)}`);
    exit(EXIT_FAILED);
  }
}

async function run(): Promise<void> {
  // the snapshot as the forking thread sealed it (only this child reads the
  // area until the request is finished)
  const ctl = controlWords(warm.control);
  const snap = stagingView(warm.control).subarray(0, Atomics.load(ctl, CTL_SNAPSHOT_BYTES));
  try {
    session.restore(snap, snap.byteLength, readFromBuffer(snap));
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    // never acknowledged: no pid, no status anyone could wait for
    exit(EXIT_REJECTED);
  }
  // the continuation is told the child's pid (getpid() in the POSIX layer's child)
  const { runtime, code } = await session.run((ack) => send({ type: 'ack', ...ack }), pid, caller);
  await runtime.exit(code);
}
