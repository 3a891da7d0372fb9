// A tiny text assembly for the reference interpreter (interp.wasm,
// assembly/interp/vm.ts, whose OP_* globals are the source of OPS: tests check).
//
//   ; comment            label:            op [operand]
// Operands are integers (decimal, hex, negative) or, for jmp/jz/call/push,
// labels (push pushes the label's instruction index, e.g. for host spawn).
// `load_attr N` gets its own inline-cache slot. `host NAME` names a host
// operation: print, sleep, exit, spawn, join, fork, waitpid (interp/interpreter.ts
// says what each takes from and leaves on the stack). `.globals N` sets the number of globals.
import { AssembleError } from '../host/errors.js';

export const OPS = {
  halt: 0, push: 1, pop: 2, dup: 3, swap: 4, add: 5, sub: 6, mul: 7, lt: 8, eq: 9,
  jmp: 10, jz: 11, load: 12, store: 13, gload: 14, gstore: 15, gadd: 16,
  load_attr: 17, store_attr: 18, lock: 19, unlock: 20, call: 21, ret: 22, enter: 23,
  host: 24, poll: 25, load_attr_uncached: 26,
} as const;
export type OpName = keyof typeof OPS;

export const HOST_OPS = { print: 1, sleep: 2, exit: 3, spawn: 4, join: 5, fork: 6, waitpid: 7 } as const;
export type HostOpName = keyof typeof HOST_OPS;

const NO_OPERAND = new Set<OpName>(['halt', 'pop', 'dup', 'swap', 'add', 'sub', 'mul', 'lt', 'eq', 'ret', 'poll']);
const LABEL_OPERAND = new Set<OpName>(['jmp', 'jz', 'call', 'push']);
const MAX_CACHE_SLOTS = 4096;

export interface Program {
  /** (opcode, operand) pairs. */
  code: Int32Array;
  /** Source line (1-based) of each instruction. */
  lines: number[];
  labels: Map<string, number>;
  globals: number;
  /** Inline-cache slots used, from `cacheBase` up. */
  cacheSlots: number;
}

export { AssembleError };

function parseInt32(text: string, line: number): number {
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(text)) throw new AssembleError(line, `not an integer: ${text}`);
  const n = text.startsWith('-') ? -Number(text.slice(1)) : Number(text);
  if (n < -(2 ** 31) || n > 2 ** 32 - 1) throw new AssembleError(line, `integer out of range: ${text}`);
  return n | 0;
}

/** Assembles `source`; inline-cache slots are numbered from `cacheBase`. */
export function assemble(source: string, cacheBase = 0): Program {
  const labels = new Map<string, number>();
  const pending: { op: OpName; operand?: string; line: number }[] = [];
  let globals = 0;
  source.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let text = raw.replace(/[;#].*$/, '').trim();
    const labelMatch = /^([A-Za-z_][\w.]*):\s*/.exec(text);
    if (labelMatch) {
      if (labels.has(labelMatch[1])) throw new AssembleError(line, `label ${labelMatch[1]} defined twice`);
      labels.set(labelMatch[1], pending.length);
      text = text.slice(labelMatch[0].length);
    }
    if (!text) return;
    const [word, operand, ...extra] = text.split(/\s+/);
    if (word === '.globals') {
      globals = parseInt32(operand ?? '', line);
      if (globals < 0 || globals > 1 << 16) throw new AssembleError(line, '.globals must be 0…65536');
      return;
    }
    const op = word.toLowerCase() as OpName;
    if (!(op in OPS)) throw new AssembleError(line, `unknown instruction: ${word}`);
    if (extra.length) throw new AssembleError(line, `${op} takes at most one operand`);
    if (NO_OPERAND.has(op) && operand !== undefined) throw new AssembleError(line, `${op} takes no operand`);
    if (!NO_OPERAND.has(op) && operand === undefined) throw new AssembleError(line, `${op} needs an operand`);
    pending.push({ op, operand, line });
  });
  const code = new Int32Array(pending.length * 2);
  let slot = cacheBase;
  pending.forEach(({ op, operand, line }, i) => {
    let arg = 0;
    if (operand !== undefined) {
      if (LABEL_OPERAND.has(op) && /^[A-Za-z_]/.test(operand)) {
        const target = labels.get(operand);
        if (target === undefined) throw new AssembleError(line, `unknown label: ${operand}`);
        arg = target;
      } else if (op === 'host') {
        const h = HOST_OPS[operand as HostOpName];
        if (h === undefined) throw new AssembleError(line, `unknown host operation: ${operand} (known: ${Object.keys(HOST_OPS).join(', ')})`);
        arg = h;
      } else {
        arg = parseInt32(operand, line);
      }
    }
    if (op === 'load_attr' || op === 'load_attr_uncached') {
      if (arg < 0 || arg > 0xff) throw new AssembleError(line, 'attribute index must be 0…255');
      if (slot >= MAX_CACHE_SLOTS) throw new AssembleError(line, 'out of inline-cache slots');
      arg |= slot++ << 8;
    }
    code[i * 2] = OPS[op];
    code[i * 2 + 1] = arg;
  });
  return { code, lines: pending.map((p) => p.line), labels, globals, cacheSlots: slot - cacheBase };
}
