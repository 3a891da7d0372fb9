// interp.wasm: the reference VM as a module linked against the core (module
// "core", docs/ABI.md "Linked modules"), one instance per thread over the
// shared memory, exactly as another VM would link. Every export validates its
// arguments before touching memory and returns a documented code, never traps.
//
// The VM's tables (opcodes, context fields, run results) are exported as
// immutable globals: they are the source the host's assembler and runner
// (interp/) are checked against by tests/linked.test.ts.

import * as vm from "./vm";
import { INTERP_BLOCK, INTERP_DATA } from "../link/blocks";

/** Runs the frame at `ctx` for up to `budget` instructions (0: no limit), polling at back-edges and calls. */
export function interp_run(h: i32, ctx: usize, budget: i32): i32 { return vm.run(h, ctx, budget); }
/** The same loop without any safe point (measures the poll's cost; never suspends). */
export function interp_run_nopoll(h: i32, ctx: usize, budget: i32): i32 {
  return vm.contextOk(ctx) ? vm.runWithoutPoll(h, ctx, budget) : vm.R_BAD_CONTEXT;
}
export function interp_ctx_size(): i32 { return <i32>vm.CTX_SIZE; }
/** First byte of the VM's heap (64-byte aligned): contexts, stacks, code and globals must lie above it. */
export function interp_heap_base(): i32 { return <i32>vm.HEAP_START; }
/** The word the host's bump allocator keeps the heap top in (0 until the first allocation). */
export function interp_heap_top_addr(): i32 { return <i32>vm.VM_HEAP_TOP; }
/** Fork child: clears type records a dead writer left mid-store; returns how many. */
export function interp_after_fork_child(): i32 { return vm.afterForkChild(); }

export const INTERP_BLOCK_ADDR: u32 = <u32>INTERP_BLOCK;
export const INTERP_DATA_ADDR: u32 = <u32>INTERP_DATA;

export const CTX_SIZE: i32 = <i32>vm.CTX_SIZE;
export const C_PC: i32 = <i32>vm.C_PC;
export const C_SP: i32 = <i32>vm.C_SP;
export const C_FP: i32 = <i32>vm.C_FP;
export const C_CODE: i32 = <i32>vm.C_CODE;
export const C_CODE_LEN: i32 = <i32>vm.C_CODE_LEN;
export const C_STACK: i32 = <i32>vm.C_STACK;
export const C_STACK_CAP: i32 = <i32>vm.C_STACK_CAP;
export const C_STATUS: i32 = <i32>vm.C_STATUS;
export const C_HOST_OP: i32 = <i32>vm.C_HOST_OP;
export const C_ERROR_PC: i32 = <i32>vm.C_ERROR_PC;
export const C_GLOBALS: i32 = <i32>vm.C_GLOBALS;
export const C_GLOBALS_LEN: i32 = <i32>vm.C_GLOBALS_LEN;
export const C_HITS: i32 = <i32>vm.C_HITS;
export const C_MISSES: i32 = <i32>vm.C_MISSES;
export const C_STEPS: i32 = <i32>vm.C_STEPS;

export const OP_HALT: i32 = vm.OP_HALT;
export const OP_PUSH: i32 = vm.OP_PUSH;
export const OP_POP: i32 = vm.OP_POP;
export const OP_DUP: i32 = vm.OP_DUP;
export const OP_SWAP: i32 = vm.OP_SWAP;
export const OP_ADD: i32 = vm.OP_ADD;
export const OP_SUB: i32 = vm.OP_SUB;
export const OP_MUL: i32 = vm.OP_MUL;
export const OP_LT: i32 = vm.OP_LT;
export const OP_EQ: i32 = vm.OP_EQ;
export const OP_JMP: i32 = vm.OP_JMP;
export const OP_JZ: i32 = vm.OP_JZ;
export const OP_LOAD: i32 = vm.OP_LOAD;
export const OP_STORE: i32 = vm.OP_STORE;
export const OP_GLOAD: i32 = vm.OP_GLOAD;
export const OP_GSTORE: i32 = vm.OP_GSTORE;
export const OP_GADD: i32 = vm.OP_GADD;
export const OP_LOAD_ATTR: i32 = vm.OP_LOAD_ATTR;
export const OP_STORE_ATTR: i32 = vm.OP_STORE_ATTR;
export const OP_LOCK: i32 = vm.OP_LOCK;
export const OP_UNLOCK: i32 = vm.OP_UNLOCK;
export const OP_CALL: i32 = vm.OP_CALL;
export const OP_RET: i32 = vm.OP_RET;
export const OP_ENTER: i32 = vm.OP_ENTER;
export const OP_HOST: i32 = vm.OP_HOST;
export const OP_POLL: i32 = vm.OP_POLL;
export const OP_LOAD_ATTR_UNCACHED: i32 = vm.OP_LOAD_ATTR_UNCACHED;
export const OP_COUNT: i32 = vm.OP_COUNT;

export const R_HALTED: i32 = vm.R_HALTED;
export const R_HOST: i32 = vm.R_HOST;
export const R_BUDGET: i32 = vm.R_BUDGET;
export const R_BAD_OPCODE: i32 = vm.R_BAD_OPCODE;
export const R_UNDERFLOW: i32 = vm.R_UNDERFLOW;
export const R_OVERFLOW: i32 = vm.R_OVERFLOW;
export const R_BAD_JUMP: i32 = vm.R_BAD_JUMP;
export const R_BAD_LOCAL: i32 = vm.R_BAD_LOCAL;
export const R_BAD_GLOBAL: i32 = vm.R_BAD_GLOBAL;
export const R_BAD_ATTR: i32 = vm.R_BAD_ATTR;
export const R_BAD_CONTEXT: i32 = vm.R_BAD_CONTEXT;
export const R_NO_ATTR: i32 = vm.R_NO_ATTR;
