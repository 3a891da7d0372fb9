// Fork continuation for the parent-call tests (tests/lib/parent-calls-cases.ts),
// under Node and in a page alike: each case calls its parent's side
// (tests/jobs/parent-service.ts) and exits 0 when what it got back is right,
// else with the failed check's number (and says which on stderr).
import type { Runtime } from '../../host/runtime.js';
import { ParentCallError } from '../../host/errors.js';
import type { ServiceBody } from './parent-service.js';
import { DeadlineError, within } from '../lib/deadline.js';

export interface ParentCallsData {
  case: 'read' | 'write' | 'hook' | 'reject' | 'none' | 'watch' | 'watchHang' | 'grand' | 'readOwn' | 'disconnect';
  addr?: number; from?: number; bytes?: number[]; mark?: number; markValue?: number;
  /** grand: what the child writes at addr before it forks (after it: that ^ CHANGED) */
  before?: number;
}
interface Ctx { runtime: Runtime; data: ParentCallsData; pid: number; callParent(body: ServiceBody): Promise<unknown> }

const STEP_MS = 10_000;
const CHANGED = 0x0f0f;
let hookCall: Promise<unknown> | undefined;

/** The call is sent here, before the ack, and not awaited: the parent finds it served when its fork returns. */
export function afterForkChild(ctx: Ctx): void {
  hookCall = undefined;
  if (ctx.data?.mark !== undefined) hookCall = ctx.callParent({ op: 'mark', addr: ctx.data.mark, value: ctx.data.markValue! });
}

class Failed extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}
const check = (ok: boolean, status: number, what: string): void => {
  if (!ok) throw new Failed(status, what);
};
const word = (bytes: unknown): number => new Int32Array((bytes as Uint8Array).slice(0, 4).buffer)[0];

async function rejectsWith(p: Promise<unknown>, code: string, text: string | undefined, status: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    check(e instanceof ParentCallError, status, `a ParentCallError, got ${String(e)}`);
    check((e as ParentCallError).code === code, status, `code ${code}, got ${(e as ParentCallError).code}`);
    check(text === undefined || (e as Error).message.includes(text), status, `the message carries '${text}': ${(e as Error).message}`);
    return;
  }
  throw new Failed(status, 'the call did not reject');
}

async function run(ctx: Ctx): Promise<number> {
  const d = ctx.data;
  const own = new Int32Array(ctx.runtime.memory.buffer);
  switch (d.case) {
    case 'read': {
      check(Atomics.load(own, d.addr! >> 2) === d.from, 10, 'the child\'s copy holds the value at the fork');
      const got = await ctx.callParent({ op: 'readChanged', addr: d.addr!, len: 8, from: d.from! });
      check(got instanceof Uint8Array, 11, `bytes arrive as a Uint8Array, got ${Object.prototype.toString.call(got)}`);
      check(word(got) !== d.from, 12, 'the parent\'s live value');
      check(Atomics.load(own, d.addr! >> 2) === d.from, 13, 'the child\'s own copy did not change');
      return 0;
    }
    case 'write': {
      const n = await ctx.callParent({ op: 'write', addr: d.addr!, bytes: new Uint8Array(d.bytes!) });
      check(n === d.bytes!.length, 20, `the service wrote ${String(n)} bytes`);
      return 0;
    }
    case 'hook': {
      check(hookCall !== undefined, 30, 'the hook called');
      check((await hookCall) === ctx.pid, 31, 'the service was told the child\'s pid');
      const who = (await ctx.callParent({ op: 'whoami' })) as { key: number; pid: number };
      check(who.pid === ctx.pid && who.key > 0, 32, `whoami ${JSON.stringify(who)}`);
      return 0;
    }
    case 'reject':
      await rejectsWith(ctx.callParent({ op: 'fail', message: 'thrown by the service', sync: true }), 'E_PARENT_CALL', 'thrown by the service', 40);
      await rejectsWith(ctx.callParent({ op: 'fail', message: 'rejected by the service', sync: false }), 'E_PARENT_CALL', 'rejected by the service', 41);
      check((await ctx.callParent({ op: 'whoami' }) as { pid: number }).pid === ctx.pid, 42, 'a later call is served');
      return 0;
    case 'none':
      await rejectsWith(ctx.callParent({ op: 'whoami' }), 'E_NO_PARENT_SERVICE', undefined, 50);
      return 0;
    case 'watch':
      await ctx.callParent({ op: 'watch', addr: d.addr! });
      return 0;
    case 'watchHang':
      await ctx.callParent({ op: 'watch', addr: d.addr! });
      // until killed
      await new Promise(() => setInterval(() => {}, 1000));
      return 0;
    case 'grand': {
      Atomics.store(own, d.addr! >> 2, d.before!);
      const { pid } = await ctx.runtime.forkAsync({ data: { case: 'readOwn', addr: d.addr, from: d.before } satisfies ParentCallsData });
      Atomics.store(own, d.addr! >> 2, d.before! ^ CHANGED);
      return await ctx.runtime.waitpidAsync(pid);
    }
    case 'disconnect': {
      // Node 'process' isolation: the IPC channel closes under a pending call
      const pending = ctx.callParent({ op: 'readChanged', addr: d.addr!, len: 4, from: d.from! });
      (globalThis as unknown as { process: { disconnect(): void } }).process.disconnect();
      await rejectsWith(pending, 'E_PARENT_GONE', undefined, 70);
      await rejectsWith(ctx.callParent({ op: 'whoami' }), 'E_PARENT_GONE', undefined, 71);
      return 0;
    }
    case 'readOwn': {
      // served by the forking child's server, over the child's memory
      const got = await ctx.callParent({ op: 'readChanged', addr: d.addr!, len: 4, from: d.from! });
      check(word(got) === (d.from! ^ CHANGED), 60, `the child's live value, got ${word(got)}`);
      return 0;
    }
  }
}

export default async function continuation(ctx: Ctx): Promise<number> {
  try {
    return await within(STEP_MS, () => run(ctx), ctx.data.case);
  } catch (e) {
    console.error(`parent-calls child (${ctx.data.case}): ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof Failed ? e.status : e instanceof DeadlineError ? 90 : 99;
  }
}
