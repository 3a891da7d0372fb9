// The reference interpreter: a small stack VM written the way an embedder
// should use the core. Everything it runs on lives in shared linear memory
// (the context below, its operand stack, the code, the globals, the types), so
// a fork snapshot carries a running frame and the child can resume it.
//
// Context (64 bytes, allocated by the host at or above heap_base):
//   +0 pc  +4 sp  +8 fp  +12 code addr  +16 code length (instructions)
//   +20 stack addr  +24 stack capacity (words)  +28 status of the last run
//   +32 host op  +36 error pc  +40 globals addr  +44 globals count
//   +48 cache hits  +52 cache misses  +56 steps (wrapping)
// Instruction: two i32 words, opcode and argument.
// Types are the core's generic seqlock records (0…7) in the type-record shape
// of seqlock.ts: version tag, metaclass version tag, then (key, value) pairs.

import { poll, genBits, handleIndex, ST_ATTACHED } from "../state";
import {
  cacheRead, cacheWrite, typeSetAttr, recordStamp, recordValid, recordWord, userRangeOk,
  T_VERSION, T_META, T_COUNT, T_PAIRS, T_MAX_ATTRS,
} from "../seqlock";
import { lockAcquire, lockRelease } from "../locks";
import { RECORD_COUNT, CACHE_ENTRIES, slotAddr } from "../layout";

export const C_PC: usize = 0;
export const C_SP: usize = 4;
export const C_FP: usize = 8;
export const C_CODE: usize = 12;
export const C_CODE_LEN: usize = 16;
export const C_STACK: usize = 20;
export const C_STACK_CAP: usize = 24;
export const C_STATUS: usize = 28;
export const C_HOST_OP: usize = 32;
export const C_ERROR_PC: usize = 36;
export const C_GLOBALS: usize = 40;
export const C_GLOBALS_LEN: usize = 44;
export const C_HITS: usize = 48;
export const C_MISSES: usize = 52;
export const C_STEPS: usize = 56;
export const CTX_SIZE: usize = 64;

// Opcodes
export const OP_HALT = 0;
export const OP_PUSH = 1;
export const OP_POP = 2;
export const OP_DUP = 3;
export const OP_SWAP = 4;
export const OP_ADD = 5;
export const OP_SUB = 6;
export const OP_MUL = 7;
export const OP_LT = 8;
export const OP_EQ = 9;
export const OP_JMP = 10;
export const OP_JZ = 11;
export const OP_LOAD = 12;
export const OP_STORE = 13;
export const OP_GLOAD = 14;
export const OP_GSTORE = 15;
export const OP_GADD = 16;
export const OP_LOAD_ATTR = 17; // arg: key | cache slot << 8; pops type, pushes value
export const OP_STORE_ATTR = 18; // arg: key; pops value, then type
export const OP_LOCK = 19;
export const OP_UNLOCK = 20;
export const OP_CALL = 21;
export const OP_RET = 22;
export const OP_ENTER = 23;
export const OP_HOST = 24; // arg: host operation; the host pops/pushes and resumes
export const OP_POLL = 25;
export const OP_LOAD_ATTR_UNCACHED = 26;
export const OP_COUNT = 27;

// Run results: >= 0 resumable states, < 0 errors (the core's codes pass through).
export const R_HALTED = 0;
export const R_HOST = 1;
export const R_BUDGET = 2;
const R_POLL = 3; // internal: a stop is pending; run() polls and re-enters
export const R_BAD_OPCODE = -100;
export const R_UNDERFLOW = -101;
export const R_OVERFLOW = -102;
export const R_BAD_JUMP = -103;
export const R_BAD_LOCAL = -104;
export const R_BAD_GLOBAL = -105;
export const R_BAD_ATTR = -106;
export const R_BAD_CONTEXT = -107;
export const R_NO_ATTR = -108;

// @ts-ignore: decorator
@inline function ld(ctx: usize, f: usize): i32 {
  return load<i32>(ctx + f);
}

// @ts-ignore: decorator
@inline function st(ctx: usize, f: usize, v: i32): void {
  store<i32>(ctx + f, v);
}

// The poll's fast path: this thread's slot word is exactly "attached, no stop".
// @ts-ignore: decorator
@inline function running(h: i32): bool {
  return atomic.load<u32>(slotAddr(handleIndex(h))) == (genBits(h) | ST_ATTACHED);
}

// @ts-ignore: decorator
@inline function at(stack: usize, i: i32): usize {
  return stack + ((<usize>i) << 2);
}

// Checks a context before a run: every region it names lies in embedder memory.
export function contextOk(ctx: usize): bool {
  if (!userRangeOk(ctx, CTX_SIZE)) return false;
  const codeLen = ld(ctx, C_CODE_LEN);
  const cap = ld(ctx, C_STACK_CAP);
  const gl = ld(ctx, C_GLOBALS_LEN);
  if (codeLen < 0 || cap < 4 || gl < 0) return false;
  if (!userRangeOk(<usize>ld(ctx, C_CODE), (<usize>codeLen) << 3)) return false;
  if (!userRangeOk(<usize>ld(ctx, C_STACK), (<usize>cap) << 2)) return false;
  if (gl > 0 && !userRangeOk(<usize>ld(ctx, C_GLOBALS), (<usize>gl) << 2)) return false;
  const sp = ld(ctx, C_SP);
  const fp = ld(ctx, C_FP);
  return sp >= 0 && sp <= cap && fp >= 0 && fp <= sp;
}

// The slow attribute path, a dictionary probe: one validated snapshot of the
// version tags and the (key, value) pairs scanned for `key`. Writes value,
// type tag, metaclass tag to `out`; false when the type has no such attribute.
// @ts-ignore: decorator
@inline function slowAttr(type: i32, key: u32, out: usize): bool {
  for (;;) {
    const s = recordStamp(type);
    const tv = atomic.load<u32>(recordWord(type, T_VERSION));
    const mv = atomic.load<u32>(recordWord(type, T_META));
    const n = <i32>min<u32>(atomic.load<u32>(recordWord(type, T_COUNT)), <u32>T_MAX_ATTRS);
    let k = 0;
    while (k < n && atomic.load<u32>(recordWord(type, T_PAIRS + 2 * k)) != key) k++;
    const v = k < n ? atomic.load<u32>(recordWord(type, T_PAIRS + 2 * k + 1)) : 0;
    if (!recordValid(type, s)) continue;
    store<u32>(out, v);
    store<u32>(out + 4, tv);
    store<u32>(out + 8, mv);
    return k < n;
  }
}

// The dispatch loop. `withPoll` is a compile-time constant at each call site,
// so the poll-free variant (for measuring the poll's cost) has no poll at all.
// @ts-ignore: decorator
@inline function runLoop(h: i32, ctx: usize, budget: i32, withPoll: bool): i32 {
  // The dispatch loop never calls the poll's slow path: a call inside the loop
  // makes the compiler keep the loop's state in memory on every iteration. On a
  // pending stop it leaves the loop (R_POLL) and run() suspends outside it.
  if (!contextOk(ctx)) return R_BAD_CONTEXT;
  const code = <usize>ld(ctx, C_CODE);
  const codeLen = ld(ctx, C_CODE_LEN);
  const stack = <usize>ld(ctx, C_STACK);
  const cap = ld(ctx, C_STACK_CAP);
  const globals = <usize>ld(ctx, C_GLOBALS);
  const nGlobals = ld(ctx, C_GLOBALS_LEN);
  let pc = ld(ctx, C_PC);
  let sp = ld(ctx, C_SP);
  let fp = ld(ctx, C_FP);
  let hits = 0;
  let misses = 0;
  let steps = 0;
  let result = R_BUDGET;
  while (budget <= 0 || steps < budget) {
    if (<u32>pc >= <u32>codeLen) { result = R_BAD_JUMP; break; }
    const ip = code + ((<usize>pc) << 3);
    const op = load<i32>(ip);
    const arg = load<i32>(ip, 4);
    steps++;
    let next = pc + 1;
    switch (op) {
      case OP_HALT: { result = R_HALTED; break; }
      case OP_PUSH: {
        if (sp >= cap) { result = R_OVERFLOW; break; }
        store<i32>(at(stack, sp++), arg);
        break;
      }
      case OP_POP: {
        if (sp <= fp) { result = R_UNDERFLOW; break; }
        sp--;
        break;
      }
      case OP_DUP: {
        if (sp <= fp) { result = R_UNDERFLOW; break; }
        if (sp >= cap) { result = R_OVERFLOW; break; }
        store<i32>(at(stack, sp), load<i32>(at(stack, sp - 1)));
        sp++;
        break;
      }
      case OP_SWAP: {
        if (sp - fp < 2) { result = R_UNDERFLOW; break; }
        const a = at(stack, sp - 1);
        const b = at(stack, sp - 2);
        const t = load<i32>(a);
        store<i32>(a, load<i32>(b));
        store<i32>(b, t);
        break;
      }
      case OP_ADD: case OP_SUB: case OP_MUL: case OP_LT: case OP_EQ: {
        if (sp - fp < 2) { result = R_UNDERFLOW; break; }
        const y = load<i32>(at(stack, sp - 1));
        const x = load<i32>(at(stack, sp - 2));
        let r = 0;
        if (op == OP_ADD) r = x + y;
        else if (op == OP_SUB) r = x - y;
        else if (op == OP_MUL) r = x * y;
        else if (op == OP_LT) r = <i32>(x < y);
        else r = <i32>(x == y);
        sp--;
        store<i32>(at(stack, sp - 1), r);
        break;
      }
      case OP_JMP: case OP_JZ: {
        if (<u32>arg >= <u32>codeLen) { result = R_BAD_JUMP; break; }
        let take = true;
        if (op == OP_JZ) {
          if (sp <= fp) { result = R_UNDERFLOW; break; }
          take = load<i32>(at(stack, --sp)) == 0;
        }
        if (take) {
          // a back-edge is a safe point
          next = arg;
          if (withPoll && arg <= pc && !running(h)) { result = R_POLL; break; }
        }
        break;
      }
      case OP_LOAD: case OP_STORE: {
        // locals from fp up; a function's arguments sit below its frame header (fp - 3, …)
        const i = fp + arg;
        if (i < 0 || i >= sp - <i32>(op == OP_STORE)) { result = R_BAD_LOCAL; break; }
        if (op == OP_LOAD) {
          if (sp >= cap) { result = R_OVERFLOW; break; }
          store<i32>(at(stack, sp), load<i32>(at(stack, i)));
          sp++;
        } else {
          store<i32>(at(stack, i), load<i32>(at(stack, --sp)));
        }
        break;
      }
      case OP_GLOAD: case OP_GSTORE: case OP_GADD: {
        if (<u32>arg >= <u32>nGlobals) { result = R_BAD_GLOBAL; break; }
        const g = globals + ((<usize>arg) << 2);
        if (op == OP_GLOAD) {
          if (sp >= cap) { result = R_OVERFLOW; break; }
          store<i32>(at(stack, sp++), atomic.load<i32>(g));
        } else {
          if (sp <= fp) { result = R_UNDERFLOW; break; }
          const v = load<i32>(at(stack, sp - 1));
          if (op == OP_GSTORE) {
            atomic.store<i32>(g, v);
            sp--;
          } else {
            store<i32>(at(stack, sp - 1), atomic.add<i32>(g, v) + v);
          }
        }
        break;
      }
      case OP_LOAD_ATTR: case OP_LOAD_ATTR_UNCACHED: {
        const key = <u32>(arg & 0xff);
        const slot = arg >>> 8;
        if (sp <= fp) { result = R_UNDERFLOW; break; }
        const type = load<i32>(at(stack, sp - 1));
        if (<u32>type >= <u32>RECORD_COUNT || slot >= CACHE_ENTRIES) { result = R_BAD_ATTR; break; }
        let value: u32 = 0;
        let hit = false;
        if (op == OP_LOAD_ATTR) {
          const tv = atomic.load<u32>(recordWord(type, T_VERSION));
          const mv = atomic.load<u32>(recordWord(type, T_META));
          const r = cacheRead(slot, tv, mv);
          if (r > 0) { value = <u32>r; hit = true; }
        }
        if (!hit) {
          // the slow path borrows three words above the stack top
          if (sp + 3 > cap) { result = R_OVERFLOW; break; }
          const out = at(stack, sp);
          if (!slowAttr(type, key, out)) { result = R_NO_ATTR; break; }
          value = load<u32>(out);
          if (op == OP_LOAD_ATTR) {
            const tv = load<u32>(out + 4);
            if (tv != 0) cacheWrite(h, slot, tv, load<u32>(out + 8), value);
            misses++;
          }
        } else {
          hits++;
        }
        store<u32>(at(stack, sp - 1), value);
        break;
      }
      case OP_STORE_ATTR: {
        if (sp - fp < 2) { result = R_UNDERFLOW; break; }
        const value = load<u32>(at(stack, sp - 1));
        const type = load<i32>(at(stack, sp - 2));
        if (<u32>type >= <u32>RECORD_COUNT || arg < 0 || arg > 0xff) { result = R_BAD_ATTR; break; }
        const r = typeSetAttr(h, type, <u32>arg, value);
        if (r < 0) { result = r; break; }
        sp -= 2;
        break;
      }
      case OP_LOCK: case OP_UNLOCK: {
        const r = op == OP_LOCK ? lockAcquire(h, arg, -1) : lockRelease(h, arg);
        if (r < 0) { result = r; break; }
        break;
      }
      case OP_CALL: {
        if (<u32>arg >= <u32>codeLen) { result = R_BAD_JUMP; break; }
        if (sp + 2 > cap) { result = R_OVERFLOW; break; }
        // poll first: leave the loop without the call made, and redo it after
        if (withPoll && !running(h)) { next = pc; result = R_POLL; break; }
        store<i32>(at(stack, sp++), pc + 1);
        store<i32>(at(stack, sp++), fp);
        fp = sp;
        next = arg;
        break;
      }
      case OP_ENTER: {
        if (arg < 0 || sp + arg > cap) { result = R_OVERFLOW; break; }
        for (let k = 0; k < arg; k++) store<i32>(at(stack, sp++), 0);
        break;
      }
      case OP_RET: {
        if (fp < 2 || sp <= fp) { result = R_UNDERFLOW; break; }
        const v = load<i32>(at(stack, sp - 1));
        const retPc = load<i32>(at(stack, fp - 2));
        const oldFp = load<i32>(at(stack, fp - 1));
        sp = fp - 2;
        fp = oldFp;
        store<i32>(at(stack, sp++), v);
        next = retPc;
        break;
      }
      case OP_HOST: {
        st(ctx, C_HOST_OP, arg);
        result = R_HOST;
        break;
      }
      case OP_POLL: {
        if (!running(h)) result = R_POLL;
        break;
      }
      default: { result = R_BAD_OPCODE; break; }
    }
    if (result != R_BUDGET) {
      // HALT and HOST resume after the instruction; an error stays on it.
      if (result >= 0) pc = next;
      break;
    }
    pc = next;
  }
  st(ctx, C_PC, pc);
  st(ctx, C_SP, sp);
  st(ctx, C_FP, fp);
  st(ctx, C_STATUS, result);
  if (result < 0) st(ctx, C_ERROR_PC, pc);
  st(ctx, C_HITS, ld(ctx, C_HITS) + hits);
  st(ctx, C_MISSES, ld(ctx, C_MISSES) + misses);
  st(ctx, C_STEPS, ld(ctx, C_STEPS) + steps);
  return result;
}

export function run(h: i32, ctx: usize, budget: i32): i32 {
  const steps0 = <u32>load<i32>(ctx + C_STEPS);
  for (;;) {
    let left = budget;
    if (budget > 0) {
      const used = <i32>(<u32>load<i32>(ctx + C_STEPS) - steps0);
      if (used >= budget) return R_BUDGET;
      left = budget - used;
    }
    const r = runLoop(h, ctx, left, true);
    if (r != R_POLL) return r;
    const p = poll(h);
    if (p < 0) {
      st(ctx, C_STATUS, p);
      st(ctx, C_ERROR_PC, ld(ctx, C_PC));
      return p;
    }
  }
  return R_BUDGET; // unreachable: the loop above only returns
}

export function runWithoutPoll(h: i32, ctx: usize, budget: i32): i32 {
  return runLoop(h, ctx, budget, false);
}
