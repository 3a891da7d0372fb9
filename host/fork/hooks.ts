// The fork server's test hooks: the named points of a hand-off at which a
// test may make a request fail in a chosen way (a server that dies, a child
// that cannot start, a slow or damaged transfer), so that every failure path
// is tested without the failures living in the server. A server loads them
// only when its init names a hooks module (ForkServerInit.testHooks), which
// only a test sets (through its own platform); an embedder's server has none
// and calls none. The faults themselves are the tests' (tests/lib/fork-faults.ts).
import type { ForkServerInit } from '../platform-worker.js';

/** What the hooks module gets from the server that loads it. */
export interface ForkHookContext {
  /** The fork control block's words (host/fork/protocol.ts). */
  control: Int32Array;
  /** Ends the server thread with `code`, as a shutdown does. */
  exit(code: number): void;
  /** ForkServerInit.testHooks.data: what the test shares with its hooks. */
  data: unknown;
}

/** What one request meets, as the hooks decided when it was taken. */
export interface ForkRequestHooks {
  /** Its child cannot start (ServerPlatform.spawn's `broken`), and no other is tried. */
  brokenChild?: boolean;
  /**
   * Runs before the sealed snapshot is made readable to the child, inside the
   * ack deadline: may wait, and may change the staged bytes in place; answers
   * how many of them the child gets.
   */
  beforeHandoff?(staged: Uint8Array): Promise<number>;
}

/** The hooks a server calls. */
export interface ForkServerHooks {
  /** A request was taken, before anything of it is done; may never settle (a server that dies mid-request). */
  request(): Promise<ForkRequestHooks | undefined>;
}

/** What a hooks module exports. */
export interface ForkHooksModule {
  forkServerHooks(ctx: ForkHookContext): ForkServerHooks;
}

/** The hooks `init` names, loaded once as the server starts; undefined without any. */
export async function loadServerHooks(
  init: ForkServerInit, ctx: Omit<ForkHookContext, 'data'>,
): Promise<ForkServerHooks | undefined> {
  if (!init.testHooks) return undefined;
  const m = (await import(init.testHooks.module)) as ForkHooksModule;
  return m.forkServerHooks({ ...ctx, data: init.testHooks.data });
}
