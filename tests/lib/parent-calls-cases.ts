// The parent-call cases (docs/FORK.md, "Calls to the parent"), one list for
// Node's two isolations (tests/fork-parent-calls.test.ts) and for a page
// (tests/browser/parent-calls-suite.ts): a child reads and writes its parent's
// live memory through tests/jobs/parent-service.ts, a call sent in the child
// hook is served when the parent's fork returns, failures reach the child as
// typed errors, childGone hears of every end, and a grandchild's calls are
// served over the child's memory. No Node built-ins: it runs in a page too.
import type { Runtime } from '../../host/runtime.js';
import { DIAG_SCRATCH } from '../../host/diag.js';
import { equal, waitFor, within } from '../browser/page-helpers.js';
import type { ParentCallsData } from '../jobs/parent-calls-child.js';

export const PARENT_CALLS_CHILD = new URL('../jobs/parent-calls-child.js', import.meta.url);
export const PARENT_SERVICE = new URL('../jobs/parent-service.js', import.meta.url);

export interface ParentCallsPlatform {
  /** A runtime that forks with PARENT_CALLS_CHILD, and with PARENT_SERVICE as its parentService when `service`. */
  make(service: boolean): Promise<Runtime>;
  close(rt: Runtime): Promise<void>;
  /** Ends a running child with SIGKILL, where the forking thread may block (not a page's). */
  kill?(rt: Runtime, pid: number): void;
  /** The child's link is an IPC channel it can close (Node 'process' isolation). */
  ipc?: boolean;
}

// test-owned words of the host scratch
const READ = DIAG_SCRATCH + 300;
const WRITE = DIAG_SCRATCH + 320;
const MARK = DIAG_SCRATCH + 340;
const GONE = DIAG_SCRATCH + 360;
const WAIT_MS = 20_000;

const words = (rt: Runtime) => new Int32Array(rt.memory.buffer);

async function forkAndReap(rt: Runtime, data: ParentCallsData, after?: () => void): Promise<number> {
  const { pid } = await rt.forkAsync({ data });
  after?.();
  return within(WAIT_MS, () => rt.waitpidAsync(pid), `waitpid (${data.case})`);
}

/** Forks a child that watches itself (childGone counts at GONE) and runs until it is ended; resolves with its pid once watched. */
async function watchedHanging(rt: Runtime): Promise<number> {
  const { pid } = await rt.forkAsync({ data: { case: 'watchHang', addr: GONE } });
  await waitFor(() => Atomics.load(words(rt), (GONE >> 2) + 1) === pid, WAIT_MS, 'the child\'s watch call');
  return pid;
}

export function parentCallCases(p: ParentCallsPlatform): [string, () => Promise<void>][] {
  const using = (service: boolean, fn: (rt: Runtime) => Promise<void>) => async () => {
    const rt = await p.make(service);
    try {
      await fn(rt);
    } finally {
      await p.close(rt);
    }
  };
  const cases: [string, () => Promise<void>][] = [
    ['a call reads the parent\'s live memory, not the child\'s copy; bytes arrive as a Uint8Array', using(true, async (rt) => {
      Atomics.store(words(rt), READ >> 2, 0x1234);
      const status = await forkAndReap(rt, { case: 'read', addr: READ, from: 0x1234 }, () => Atomics.store(words(rt), READ >> 2, 0x4321));
      equal(status, 0, 'child status (10-13: tests/jobs/parent-calls-child.ts read)');
    })],
    ['a call writes into the parent\'s memory', using(true, async (rt) => {
      const bytes = [9, 8, 7, 6, 5, 4, 3, 2];
      equal(await forkAndReap(rt, { case: 'write', addr: WRITE, bytes }), 0, 'child status');
      equal([...new Uint8Array(rt.memory.buffer, WRITE, bytes.length)], bytes, 'the parent\'s memory holds what the child sent');
    })],
    ['a call sent in afterForkChild has been served when the parent\'s fork returns', using(true, async (rt) => {
      const { pid } = await rt.forkAsync({ data: { case: 'hook', mark: MARK, markValue: 0x5eed } });
      equal(Atomics.load(words(rt), MARK >> 2), 0x5eed, 'served before the fork returned');
      equal(await within(WAIT_MS, () => rt.waitpidAsync(pid), 'waitpid'), 0, 'child status (30-32: the hook call\'s result, the pid)');
    })],
    ['a throwing or rejecting service rejects the child\'s call with E_PARENT_CALL and its message', using(true, async (rt) => {
      equal(await forkAndReap(rt, { case: 'reject' }), 0, 'child status (40-42)');
    })],
    ['without a parentService a call rejects with E_NO_PARENT_SERVICE', using(false, async (rt) => {
      equal(await forkAndReap(rt, { case: 'none' }), 0, 'child status (50)');
    })],
    ['childGone runs once when the child exits', using(true, async (rt) => {
      equal(await forkAndReap(rt, { case: 'watch', addr: GONE }), 0, 'child status');
      await waitFor(() => Atomics.load(words(rt), GONE >> 2) === 1, WAIT_MS, 'childGone');
      // another child's round trip: the first one's end is not heard again
      equal(await forkAndReap(rt, { case: 'reject' }), 0, 'second child status');
      equal(Atomics.load(words(rt), GONE >> 2), 1, 'childGone ran once');
    })],
    ['childGone runs for a live child when the runtime closes killing its children', async () => {
      const rt = await p.make(true);
      try {
        await watchedHanging(rt);
      } finally {
        await within(WAIT_MS, () => rt.close({ children: 'kill' }), 'close');
      }
      equal(Atomics.load(words(rt), GONE >> 2), 1, 'childGone ran before the close finished');
    }],
    ['a grandchild\'s call is served by its parent\'s (the child\'s) server over the child\'s memory', using(true, async (rt) => {
      Atomics.store(words(rt), READ >> 2, 0x1111);
      equal(await forkAndReap(rt, { case: 'grand', addr: READ, before: 0x777 }), 0, 'child status: the grandchild\'s (60: not the child\'s live value)');
      equal(Atomics.load(words(rt), READ >> 2), 0x1111, 'the parent\'s word was never the child\'s');
    })],
  ];
  const kill = p.kill;
  if (kill) {
    cases.push(['childGone runs when the child is killed', using(true, async (rt) => {
      const pid = await watchedHanging(rt);
      kill(rt, pid);
      equal(await within(WAIT_MS, () => rt.waitpidAsync(pid), 'waitpid'), 137, 'killed by SIGKILL');
      await waitFor(() => Atomics.load(words(rt), GONE >> 2) === 1, WAIT_MS, 'childGone');
    })]);
  }
  if (p.ipc) {
    cases.push(['a pending call and every later one reject with E_PARENT_GONE once the link closes', using(true, async (rt) => {
      Atomics.store(words(rt), READ >> 2, 0x2222);
      equal(await forkAndReap(rt, { case: 'disconnect', addr: READ, from: 0x2222 }), 0, 'child status (70-71)');
    })]);
  }
  return cases;
}
