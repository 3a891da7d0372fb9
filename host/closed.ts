// The closed-runtime contract, written once. After `close()` every public
// method and getter of the runtime and of every object it handed out — its
// main thread (`rt.main`), each Mutex and CacheEntry, each WorkerThread —
// throws ClosedError (E_CLOSED), sync or as a rejection, before it reads
// shared memory or checks its arguments. The members below are the only
// exceptions: they still answer, and say why. tests/closed.test.ts walks every
// class's prototype against this table, so a new member is either refused
// after close or listed here.

export const ANSWERS_AFTER_CLOSE = {
  Runtime: {
    close: 'idempotent: a second close resolves at once',
    closeAsync: 'idempotent, as close',
    closed: 'true',
    exit: 'ends the process; closing first is idempotent',
    handle: "the main thread's handle: identity, no shared memory read",
    importLock: 'a constant (lock 0)',
    workers: '[]: every worker has ended',
  },
  RegisteredThread: {
    closed: 'true',
    index: "the slot index of its handle: identity",
    markClosed: 'how close() closes it; idempotent',
  },
  Mutex: {},
  CacheEntry: {},
  // A worker dies with the runtime: these report how it ended.
  WorkerThread: {
    threadId: 'identity',
    registered: 'the settled registration',
    join: "the settled outcome of the worker's job",
    terminate: 'a no-op on an ended worker',
  },
} as const satisfies Record<string, Record<string, string>>;

export type ClosedContractClass = keyof typeof ANSWERS_AFTER_CLOSE;
