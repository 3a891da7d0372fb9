// Stop hooks: how a stop reaches a thread that runs without polling the core.
//
// A VM whose running thread checks a flag of its own instead of the core's
// safe point (CPython's eval loop reads its eval_breaker, never the slot
// word) registers that flag here. The stop's requester, whichever thread and
// instance drives the steps (the core's `stop`, the host's sync or async
// stop, a C caller), then asks on the VM's behalf with plain atomic writes to
// memory: nothing of the VM's module runs on the requester's thread.
//
//   HOOK_SIGNAL  every park pass that leaves a thread pending (ATTACHED or
//                REGISTERING) stores `value` into the word, after the pass
//                has set the STOP bits, in registration order. Repeated at
//                every such pass: a VM whose own code may overwrite the flag
//                meanwhile (CPython recomputes eval_breaker from its own
//                state) is asked again one slice later.
//   HOOK_COUNT   added to by the same passes, with the signal words: a count
//                of the passes that asked. A reader that sees it move knows
//                that a request it finds may be a stop's.
//   HOOK_WAKE    at the end of every stop (start, the abandon at the
//                deadline, the restore after a requester died), once
//                W_REQUESTED is cleared and every parked thread resumed:
//                `value` is added to the word and every waiter on it is woken.
//
// The calling protocol, for a VM:
//  - Register before threads run (entries are never removed; a fork child
//    inherits them with the memory). At most HOOK_MAX entries; the same word
//    and kind registered again keeps its entry and takes the new value.
//  - A thread that sees its signal goes to a safe point the core already has:
//    `poll`, or a blocking wait that detaches, where the requester parks it.
//    The hooks move no slot: only the owner moves ATTACHED <-> DETACHED, only
//    the requester parks and resumes.
//  - The request is cleared before the wake-ups: a woken waiter that reads
//    W_REQUESTED reads 0 for the stop that woke it.
//  - Signals are not undone at the end; the VM consumes them as it consumes
//    its own requests. A thread whose wait was caused by a request and needs
//    another thread to end it (CPython's GIL holder, which waits for a taker
//    after dropping the GIL on request) reads the wake word it will wait on,
//    then a count word, then W_REQUESTED. While a stop is requested it waits:
//    the end of that stop, whether it signalled or not, changes the wake word
//    after clearing the request, so the wait ends. Otherwise, if passes have
//    asked since the last such look (the count moved), the request may be a
//    stop's that outlived it: no wait, and the VM takes its lock again, which
//    consumes the request. vms/posix/src/stop.c does this for a condition
//    variable (wtp_cond_stop_guard, docs/EMBEDDING.md); a flag cleared on
//    consumption instead of a count would let that consumption eat a newer
//    stop's flag (assembly/model/gilstop.pml, BUG_BOOL).
//  - A wake word changes at the end of every stop, whether or not its waiter
//    was asked: a wait on it treats that as a spurious wake-up.

import { HK_USED, HOOK_MAX, HE_KIND, HE_ADDR, HE_VALUE, HOOK_SIGNAL, HOOK_WAKE, HOOK_COUNT, hookAddr } from "./layout";
import { E_ARG, E_FULL } from "./errors";

// A word the requester may write: 4-aligned embedder memory inside the memory
// as it is now (memory never shrinks).
function embedderWord(a: usize): bool {
  const end = (<usize>memory.size()) << 16;
  return (a & 3) == 0 && a >= __heap_base && end >= 4 && a <= end - 4;
}

// Registers the word at `addr`: its entry index, or E_ARG, E_FULL.
// Two registrations of one word racing each other may take two entries: the
// word is then written twice per pass or stop, which the protocol tolerates.
export function hookAdd(addr: i32, value: i32, kind: i32): i32 {
  const k = <u32>kind;
  const a = <usize><u32>addr;
  if ((k != HOOK_SIGNAL && k != HOOK_WAKE && k != HOOK_COUNT) || !embedderWord(a)) return E_ARG;
  const n = <i32>atomic.load<u32>(HK_USED);
  for (let i = 0; i < n; i++) {
    const e = hookAddr(i);
    if (atomic.load<u32>(e + HE_KIND) == k && atomic.load<u32>(e + HE_ADDR) == <u32>a) {
      atomic.store<i32>(e + HE_VALUE, value);
      return i;
    }
  }
  let i: u32;
  while (true) {
    i = atomic.load<u32>(HK_USED);
    if (i >= <u32>HOOK_MAX) return E_FULL;
    if (atomic.cmpxchg<u32>(HK_USED, i, i + 1) == i) break;
  }
  const e = hookAddr(<i32>i);
  atomic.store<u32>(e + HE_ADDR, <u32>a);
  atomic.store<i32>(e + HE_VALUE, value);
  // the kind last: a requester skips an entry still being written
  atomic.store<u32>(e + HE_KIND, k);
  return <i32>i;
}

// The requester, in a park pass that left threads pending: the signal and
// count words, in registration order.
export function hooksSignal(): void {
  const n = <i32>atomic.load<u32>(HK_USED);
  for (let i = 0; i < n; i++) {
    const e = hookAddr(i);
    const k = atomic.load<u32>(e + HE_KIND);
    const a = <usize>atomic.load<u32>(e + HE_ADDR);
    if (k == HOOK_SIGNAL) atomic.store<i32>(a, atomic.load<i32>(e + HE_VALUE));
    else if (k == HOOK_COUNT) atomic.add<i32>(a, atomic.load<i32>(e + HE_VALUE));
  }
}

// The requester, ending its stop (once): after W_REQUESTED = 0 and the
// restore pass. Every stop, signalled or not: a waiter that read W_REQUESTED
// as 1 waits for exactly this.
export function hooksWake(): void {
  const n = <i32>atomic.load<u32>(HK_USED);
  for (let i = 0; i < n; i++) {
    const e = hookAddr(i);
    if (atomic.load<u32>(e + HE_KIND) != HOOK_WAKE) continue;
    const a = <usize>atomic.load<u32>(e + HE_ADDR);
    atomic.add<i32>(a, atomic.load<i32>(e + HE_VALUE));
    atomic.notify(a, u32.MAX_VALUE);
  }
}
