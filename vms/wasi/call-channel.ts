// A call from any worker to one thread's event loop, through a channel in a
// SharedArrayBuffer: the callee lives on one thread (a page's own, which must
// not block; a process's host thread, which owns what the workers cannot
// reach), and a caller takes the channel's lock, posts its call, and waits
// for the answer (a blocking wait, so a VM runs it detached: the `blocking`
// parameter); the server answers each call as its event loop turns
// (serveCalls, which never blocks and may answer later, asynchronously).
// Calls are one at a time. The file system's channel (fs-channel.ts) and the
// process service's (vms/posix/host/spawn.ts) are its two users.
//
// Layout, i32 words: LOCK (0 free, 1 held), STATE (IDLE, CALLED, ANSWERED),
// LENGTH (bytes of the message), CLOSED (the server has stopped); the message
// from byte DATA: a u32 length of its JSON part, the JSON, then raw bytes.
import { InvalidArgumentError } from '../../host/errors.js';
import { waitAsync } from '../../host/wait.js';

const LOCK = 0;
const STATE = 1;
const LENGTH = 2;
const CLOSED = 3;
export const CALL_DATA = 16;
const IDLE = 0;
const CALLED = 1;
const ANSWERED = 2;
/** What a caller waits for in one piece before it checks that the server is still there. */
const SLICE_MS = 1000;

/** A channel with room for messages of `bytes`; `what` names it in the error. */
export function newCallChannel(bytes: number, what: string): SharedArrayBuffer {
  if (!Number.isInteger(bytes) || bytes < 4096 || bytes > 1 << 30) {
    throw new InvalidArgumentError(`${what}'s size is an integer in [4096, ${1 << 30}] bytes, got ${String(bytes)}`);
  }
  return new SharedArrayBuffer(CALL_DATA + bytes);
}

const enc = new TextEncoder();

/** Writes a message (JSON part, raw bytes) into the channel; its length goes to LENGTH. */
function put(channel: SharedArrayBuffer, json: unknown, raw?: Uint8Array): void {
  const head = enc.encode(JSON.stringify(json));
  const room = channel.byteLength - CALL_DATA - 4;
  if (head.length + (raw?.length ?? 0) > room) throw Object.assign(new Error('message larger than the channel'), { code: 'EIO' });
  const bytes = new Uint8Array(channel);
  new DataView(channel).setUint32(CALL_DATA, head.length, true);
  bytes.set(head, CALL_DATA + 4);
  if (raw) bytes.set(raw, CALL_DATA + 4 + head.length);
  Atomics.store(new Int32Array(channel), LENGTH, 4 + head.length + (raw?.length ?? 0));
}

function take(channel: SharedArrayBuffer): { json: unknown; raw: Uint8Array } {
  const n = Atomics.load(new Int32Array(channel), LENGTH);
  const headLen = new DataView(channel).getUint32(CALL_DATA, true);
  const bytes = new Uint8Array(channel, CALL_DATA + 4, n - 4).slice();
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(0, headLen))), raw: bytes.subarray(headLen) };
}

export interface Call { m: string; a: unknown[] }
export type Answer = { ok: unknown } | { err: string; message: string };
/** What the server gives back for a call: the answer and its raw bytes. */
export type Answered = [Answer, Uint8Array?];

/** An error as an answer: its `code` (EIO when it has none) and message. */
export const errorAnswer = (e: unknown): Answered => [{ err: (e as { code?: string }).code ?? 'EIO', message: e instanceof Error ? e.message : String(e) }];

/**
 * Serves `answer` on `channel` from this thread until stop(): every wait is asynchronous (a page's own thread may run
 * it); the next call is taken once the answer to this one is given. stop() settles once the server has left its loop,
 * its wait's timer cleared (a recycled fork carrier finds nothing of it left running).
 */
export function serveCalls(channel: SharedArrayBuffer, answer: (call: Call, raw: Uint8Array) => Answered | Promise<Answered>): { stop(): Promise<void> } {
  const w = new Int32Array(channel);
  let stopped = false;
  const served = (async () => {
    while (!stopped) {
      const s = Atomics.load(w, STATE);
      if (s !== CALLED) {
        await waitAsync(w, STATE * 4, s, SLICE_MS);
        continue;
      }
      const { json, raw } = take(channel);
      let a: Answered;
      try {
        a = await answer(json as Call, raw);
      } catch (e) {
        a = errorAnswer(e);
      }
      if (stopped) break;
      put(channel, a[0], a[1]);
      Atomics.store(w, STATE, ANSWERED);
      Atomics.notify(w, STATE);
    }
  })();
  return {
    stop() {
      stopped = true;
      Atomics.store(w, CLOSED, 1);
      Atomics.notify(w, STATE);
      Atomics.notify(w, LOCK);
      return served;
    },
  };
}

/**
 * Calls `m` with `a` (JSON) and `raw` on `channel`'s server and waits for the answer inside `blocking` (a VM's thread
 * runs it detached); the answer's value and raw bytes. An error answer is thrown with its code; a stopped server fails
 * the call with `gone` (code EIO).
 */
export function remoteCall(channel: SharedArrayBuffer, blocking: <T>(f: () => T) => T, gone: string, m: string, a: unknown[], raw?: Uint8Array): { ok: unknown; raw: Uint8Array } {
  const w = new Int32Array(channel);
  const closed = () => Atomics.load(w, CLOSED) !== 0;
  const stopped = () => Object.assign(new Error(gone), { code: 'EIO' });
  const answer = blocking(() => {
    while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) {
      if (closed()) throw stopped();
      Atomics.wait(w, LOCK, 1, SLICE_MS);
    }
    try {
      put(channel, { m, a } satisfies Call, raw);
      Atomics.store(w, STATE, CALLED);
      Atomics.notify(w, STATE);
      while (Atomics.load(w, STATE) !== ANSWERED) {
        if (closed()) throw stopped();
        Atomics.wait(w, STATE, CALLED, SLICE_MS);
      }
      const got = take(channel);
      Atomics.store(w, STATE, IDLE);
      return got;
    } finally {
      Atomics.store(w, LOCK, 0);
      Atomics.notify(w, LOCK, 1);
    }
  });
  const a2 = answer.json as Answer;
  if ('err' in a2) throw Object.assign(new Error(a2.message), { code: a2.err });
  return { ok: a2.ok, raw: answer.raw };
}
