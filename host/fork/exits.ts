// How a child ended, in the process table's status word, and the two things a
// parent asks of its children besides one pid's status: the child that exited
// first (POSIX wait(): a shell's `wait -n`, a pool reaping its workers) and a
// kill. The table's entries are this runtime's children and no one else's
// (each runtime has its own control block), so "any child" is any entry.
//
// ## Status word
// An exit code (0…255), or PROC_SIGNALED | n for a child the server ended on
// a kill with signal n: a killed child and one that exited with 128 + n are
// then told apart, as Linux's wait status tells them.
//
// ## Exit order
// procExited numbers each exit (CTL_EXITS, then the entry's fourth word) and
// notifies CTL_EXITS: a waiter for any child takes the EXITED entry with the
// lowest number, and otherwise waits on CTL_EXITS from the count it scanned at.
//
// ## Kill requests (word CTL_KILL)
//   0 ──post (a parent's thread, CAS)──▶ (pid << 6) | signal ──done (the server)──▶ 0
// One request at a time; the server looks at the word each time its loop
// wakes (a post notifies CTL_STATE, which its loop waits on), ends the child
// and records the signal as the child's status.
import { CTL_EXITS, CTL_KILL, CTL_STATE, PROC_ENTRIES, PROC_EXITED, PROC_RUNNING, procSlot, procState, type ProcEntry } from './protocol.js';

export const PROC_SIGNALED = 0x100;
export const SIGKILL = 9;
export const SIGTERM = 15;

/** The status word of a child ended by signal `n`. */
export const signaled = (n: number): number => PROC_SIGNALED | n;

/** The host API's exit status: the exit code, or 128 + signal. */
export const exitCodeOf = (status: number): number => (status & PROC_SIGNALED ? 128 + (status & 0x7f) : status);

/** Linux's wait status: the exit code in bits 8-15, or the signal in the low 7 bits. */
export const waitStatusOf = (status: number): number => (status & PROC_SIGNALED ? status & 0x7f : (status & 0xff) << 8);

/** The unreaped child that exited first, or undefined; `children`: how many entries are running or exited. */
export function procFirstExited(ctl: Int32Array): { entry?: ProcEntry & { pid: number }; children: number } {
  let best: (ProcEntry & { pid: number; order: number }) | undefined;
  let children = 0;
  for (let i = 0; i < PROC_ENTRIES; i++) {
    const slot = procSlot(i);
    const t = Atomics.load(ctl, slot + 1);
    const st = procState(t);
    if (st === PROC_RUNNING) children++;
    if (st !== PROC_EXITED) continue;
    const pid = Atomics.load(ctl, slot);
    const order = Atomics.load(ctl, slot + 3);
    // the tag unchanged: pid and order are this exit's (reaped meanwhile: skip it)
    if (Atomics.load(ctl, slot + 1) !== t) continue;
    children++;
    if (!best || order < best.order) best = { slot, tag: t, pid, order };
  }
  return { entry: best, children };
}

/** The exits counted so far: a waiter scans after reading it and waits on CTL_EXITS from it. */
export const exitCount = (ctl: Int32Array): number => Atomics.load(ctl, CTL_EXITS);

/** A parent's thread: posts a kill of `pid` with `signal`; the request's word, or 0 while another is pending. */
export function postKill(ctl: Int32Array, pid: number, signal: number): number {
  const word = (pid << 6) | signal;
  if (Atomics.compareExchange(ctl, CTL_KILL, 0, word) !== 0) return 0;
  Atomics.notify(ctl, CTL_STATE);
  return word;
}

/** The server: the pending kill, if any (it stays pending until killDone). */
export function pendingKill(ctl: Int32Array): { pid: number; signal: number } | undefined {
  const word = Atomics.load(ctl, CTL_KILL);
  return word === 0 ? undefined : { pid: word >>> 6, signal: word & 0x3f };
}

/** The server: the pending kill is served. */
export function killDone(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_KILL, 0);
  Atomics.notify(ctl, CTL_KILL);
}
