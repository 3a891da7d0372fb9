// Calls from a fork child to its parent's side (docs/FORK.md, "Calls to the
// parent"). The fork server holds the parent's memory and a link to every
// child, and its event loop is always free: it imports the runtime's
// `fork.parentService` once and answers each child's `call` with the module's
// `serveChild`, over that memory. The link is the platform's (IPC, a worker's
// port, a page's MessagePort); this file only says what travels on it.
//
// Ordering: a call is dispatched on receipt, and serveChild's synchronous part
// runs then. Messages on one link arrive in the order they were sent, so every
// call a child sent before its ack has reached serveChild before the server
// handles the ack — before the parent's fork returns.
import { ForkServerError, ParentCallError, type ErrorCode } from '../errors.js';

/** A child as a parent service sees it: `key` is unique per child within its server; `pid` as fork returned it. */
export interface ParentServiceChild { readonly key: number; readonly pid: number }

/** One call: the memory of the server's runtime (the parent's), the calling child, what it sent. */
export interface ParentServiceCall { memory: WebAssembly.Memory; child: ParentServiceChild; body: unknown }

/** What a `fork.parentService` module exports. */
export interface ParentService {
  /** Answers a child's `callParent(body)`; a throw or rejection rejects the child's call with E_PARENT_CALL. */
  serveChild(call: ParentServiceCall): unknown;
  /** Once per handed-off child, when it is gone (its program ended, it exited, was killed, or its hand-off failed). */
  childGone?(child: ParentServiceChild): void;
}

/** A child's call, on its link to the server. */
export interface ParentCallMessage { type: 'call'; id: number; body: unknown }
/** The server's answer: `ok` (the service's result) or `error` with its code. */
export interface ParentReplyMessage { type: 'reply'; id: number; ok?: unknown; error?: { code: ErrorCode; message: string } }

export const isReply = (m: unknown): m is ParentReplyMessage => (m as { type?: unknown } | null)?.type === 'reply';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The server's side: imports the module (none configured: undefined). */
export async function loadParentService(url: string | undefined): Promise<ParentService | undefined> {
  if (url === undefined) return undefined;
  const m = (await import(url)) as Partial<ParentService>;
  if (typeof m.serveChild !== 'function') throw new ForkServerError(`fork.parentService ${url} exports no function serveChild`);
  return m as ParentService;
}

/**
 * Serves one call: serveChild's synchronous part runs now; its result (or
 * failure) is posted with `reply` when it settles. Never throws.
 */
export function serveParentCall(
  service: ParentService | undefined, memory: WebAssembly.Memory, child: ParentServiceChild | undefined,
  m: ParentCallMessage, reply: (r: ParentReplyMessage) => void,
): void {
  const fail = (code: ErrorCode, message: string) => reply({ type: 'reply', id: m.id, error: { code, message } });
  if (!service) return fail('E_NO_PARENT_SERVICE', 'the runtime has no fork.parentService');
  // a call from a carrier whose child is gone (a stray task of a recycled child's program)
  if (!child) return fail('E_PARENT_GONE', 'the calling child is gone');
  let result: unknown;
  try {
    result = service.serveChild({ memory, child, body: m.body });
  } catch (e) {
    return fail('E_PARENT_CALL', messageOf(e));
  }
  Promise.resolve(result).then((ok) => {
    try {
      reply({ type: 'reply', id: m.id, ok });
    } catch (e) {
      // a result the link cannot carry
      fail('E_PARENT_CALL', `the service's result cannot be sent: ${messageOf(e)}`);
    }
  }, (e) => fail('E_PARENT_CALL', messageOf(e)));
}

/**
 * The child's side: `call` posts a call and resolves with its reply (routed
 * by id). Once the link is gone (`gone`), pending and later calls reject
 * with E_PARENT_GONE; without a service every call rejects at once with
 * E_NO_PARENT_SERVICE. A pending call keeps a child process alive only
 * through `busy` (its platform refs its link meanwhile).
 */
export class ParentCaller {
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #gone?: string;

  /**
   * `post` returns false when the link is closed already. `busy` hears when calls start and stop being pending (a
   * child process keeps its link referenced meanwhile: an awaited reply is work the process has left to do).
   */
  constructor(private readonly service: string | undefined, private readonly post: (m: ParentCallMessage) => boolean,
    private readonly busy: (pending: boolean) => void = () => {}) {}

  call(body: unknown): Promise<unknown> {
    if (this.service === undefined) return Promise.reject(new ParentCallError('E_NO_PARENT_SERVICE', 'callParent: the runtime has no fork.parentService'));
    if (this.#gone !== undefined) return Promise.reject(new ParentCallError('E_PARENT_GONE', `callParent: ${this.#gone}`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.busy(true);
      let posted: boolean;
      try {
        posted = this.post({ type: 'call', id, body });
      } catch (e) {
        this.#pending.delete(id);
        if (!this.#pending.size) this.busy(false);
        reject(new ParentCallError('E_PARENT_CALL', `callParent: the call cannot be sent: ${messageOf(e)}`));
        return;
      }
      if (!posted) this.gone('the link to the fork server is closed');
    });
  }

  reply(m: ParentReplyMessage): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (!this.#pending.size) this.busy(false);
    if (m.error) p.reject(new ParentCallError(m.error.code, `callParent: ${m.error.message}`));
    else p.resolve(m.ok);
  }

  /** The link is gone: pending calls reject now, later ones at once. */
  gone(reason: string): void {
    this.#gone ??= reason;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    if (pending.length) this.busy(false);
    for (const p of pending) p.reject(new ParentCallError('E_PARENT_GONE', `callParent: ${this.#gone}`));
  }
}
