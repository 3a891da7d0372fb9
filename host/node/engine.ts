// Which V8 tiers this project's Wasm may run in on this engine, and the flags
// that say so. Nothing here runs on import: a library import sets no V8 flag
// (flags are process-wide, the embedder's own code included). The project's
// commands, its test runner and its fork child processes call
// `applyEngineFlags` before they compile anything; an embedder on an affected
// engine gets a warning from the first createRuntime (docs/EMBEDDING.md,
// "Engines").
//
// V8 11.x (Node 20) Liftoff miscompiles a load that follows
// memory.atomic.wait32 inside a loop: a local cached in a register is
// clobbered by the wait, so a re-read of a slot word after a wake-up is wrong.
// LIFTOFF_PROBE below reproduces it (1000 of 1000 rounds wrong on V8 11.3 with
// Liftoff, none with TurboFan; none on V8 12.4 (Node 22) or 13.6 (Node 24)
// in either tier). tests/engine.test.ts runs it on the engine under test.
import { setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { show } from '../options.js';
import { functionIndex } from '../wasm-names.js';

/** The V8 major version of this engine. */
export const v8Major = Number(/^(\d+)\./.exec(process.versions.v8)?.[1] ?? 0);

/** Whether this engine's Liftoff tier has the wait/reload miscompile: V8 11 and older. */
export const liftoffMiscompilesWait = v8Major < 12;

/**
 * Whether `--wasm-eager-tier-up-function` can name one module's function in a
 * process that compiles others: V8 13 ignores an index past a module's
 * functions, V8 12.4 (Node 22) never settles that module's compile (the core's
 * 103 functions under an index of 670: the promise stays pending).
 */
export const eagerTierUpPerFunction = v8Major >= 13;

/**
 * What a process's Wasm is: the core and the linked modules only ('core'), or
 * a VM module whose interpreter loop is one call that never returns while the
 * program runs (V8 has no on-stack replacement for Wasm, so that loop stays in
 * the tier it was entered in). `{ vmLoop }` names that loop: the loop's
 * function index in the VM's module (host/wasm-names.ts reads it from the
 * module's name section). 'vm' is a VM whose loop is not named.
 */
export type EngineUse = 'core' | 'vm' | { vmLoop: number };

/**
 * The V8 flags a process running the project's Wasm needs on this engine:
 * `--no-liftoff` where Liftoff miscompiles (correctness). For a VM, its loop
 * compiled by TurboFan before the first call: a Lua loop of 2·10⁷ iterations
 * on Node 24 ran 2–3× slower entered in Liftoff code. Only the named loop is
 * compiled up front (`--wasm-eager-tier-up-function`); the rest of the VM
 * starts in Liftoff and dynamic tiering moves what runs hot, where
 * `--no-liftoff` compiled every function by TurboFan at its first call, on
 * the calling thread: most of `wasm-threads-lua -e ''`'s start-up
 * (docs/PERFORMANCE.md, "startup"). A VM whose loop is not named gets
 * `--no-liftoff`, and so does every VM on V8 12 (eagerTierUpPerFunction).
 * Elsewhere nothing: Liftoff starts fast and dynamic tiering moves hot
 * functions to TurboFan.
 */
export function engineFlags(use: EngineUse = 'core'): string[] {
  const loop = typeof use === 'object' && use !== null ? use.vmLoop : undefined;
  if (use !== 'core' && use !== 'vm' && !(Number.isSafeInteger(loop) && loop! >= 0 && loop! < 2 ** 31)) {
    throw new InvalidArgumentError(`engine use: 'core', 'vm' or { vmLoop: a function index }, not ${show(use)}`);
  }
  if (liftoffMiscompilesWait || use === 'vm' || (use !== 'core' && !eagerTierUpPerFunction)) return ['--no-liftoff'];
  if (use === 'core') return [];
  return [`${EAGER_TIER_UP}=${loop}`];
}
const EAGER_TIER_UP = '--wasm-eager-tier-up-function';

/**
 * A VM's use, from its module's bytes and the name of its interpreter loop:
 * `{ vmLoop }` when the module's name section has that name, else 'vm' (a
 * module stripped of its names still runs its loop in TurboFan).
 */
export function vmEngineUse(module: Uint8Array, loop: string): EngineUse {
  const vmLoop = functionIndex(module, loop);
  return vmLoop === undefined ? 'vm' : { vmLoop };
}

let applied: string[] | undefined;

/**
 * Sets engineFlags(use) for this process, before any module is compiled (V8
 * reads tiering flags at compile time). The project's commands call it; an
 * embedder on an affected engine calls it (or passes the flags on node's
 * command line) before its first createRuntime.
 */
export function applyEngineFlags(use: EngineUse = 'core'): string[] {
  const flags = engineFlags(use);
  for (const f of flags) setFlagsFromString(f);
  applied = flags;
  return flags;
}

/** This process's tiering flags: the ones node's command line gave, and the ones applyEngineFlags set. */
export function engineFlagsInEffect(): string[] {
  return [...new Set([...commandLineTieringFlags(), ...(applied ?? [])])];
}

/** The tiering flags node's command line gave this process (a child process started with its execArgv has them too). */
export function commandLineTieringFlags(): string[] {
  return process.execArgv.filter((f) => TIERING_FLAGS.includes(f) || f.startsWith(`${EAGER_TIER_UP}=`));
}
const TIERING_FLAGS = ['--no-liftoff', '--liftoff'];

/**
 * The flags a fork child process starts with: its parent's tiering, and at
 * least what this engine needs to be correct (a parent that ignored the
 * warning does not pass the miscompile on).
 */
export function childEngineFlags(): string[] {
  return [...new Set([...engineFlags('core'), ...engineFlagsInEffect()])];
}

let warned = false;

/**
 * Warns once when this engine needs `--no-liftoff` for correctness and the
 * process has not set it (neither applyEngineFlags nor node's command line
 * nor NODE_OPTIONS).
 */
export function warnIfUnsafeTiering(): void {
  // flags are the process's: its main thread decides them (a worker's copy of this module never saw them applied)
  if (warned || !liftoffMiscompilesWait || !isMainThread) return;
  warned = true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (applied?.includes('--no-liftoff') || given.includes('--no-liftoff')) return;
  process.emitWarning(
    `V8 ${process.versions.v8}'s Liftoff tier miscompiles a load after memory.atomic.wait32: run node with --no-liftoff, `
      + 'or call applyEngineFlags() from wasm-threads-core before createRuntime (docs/EMBEDDING.md, "Engines")',
    { code: 'WTC_LIFTOFF' },
  );
}

// (module (import "env" "memory" (memory 1 1 shared))
//   (func (export "probe") (param $p i32) (param $n i32) (result i32) (local $i i32) (local $bad i32) (local $v i32)
//     (local.set $v (i32.atomic.load (local.get $p)))
//     (loop $l
//       (drop (memory.atomic.wait32 (i32.add (local.get $p) (i32.const 4)) (i32.const 0) (i64.const 0)))
//       (if (i32.ne (i32.atomic.load (local.get $p)) (local.get $v)) (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
//       (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
//     (local.get $bad)))
const LIFTOFF_PROBE = '0061736d0100000001070160027f7f017f02100103656e76066d656d6f727902030101030201000709010570726f626500000a40013e01037f2000fe10020021040340200041046a41004200fe0102001a2000fe1002002004470440200341016a21030b200241016a22022001490d000b20030b';

/**
 * Runs the miscompile's reproduction `rounds` times in the tier the process's
 * flags choose; returns how many re-reads after a wait were wrong (0 on a
 * correct engine).
 */
export function probeWaitReload(rounds = 1000): number {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  new Int32Array(memory.buffer)[0] = 0x5a5a;
  const bytes = Uint8Array.from(LIFTOFF_PROBE.match(/../g)!, (h) => parseInt(h, 16));
  const { probe } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as {
    probe(p: number, n: number): number;
  };
  return probe(0, rounds);
}
