// fork() from any depth of C frames, without a VM: the fork build step
// (scripts/asyncify-fork.mjs) on a small module in which a "C function" calls
// a callback through the table and the callback forks, and host/c-fork.ts's
// CForkThread unwinding, "forking" (a copy of the memory) and rewinding it in
// the parent and in a new instance over the copy (the child).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CForkThread, WASI_ERRNO, forkFramesOf, hasAsyncify, type CForkFrames } from '../host/c-fork.js';
import { IN_CI, ROOT } from './lib/embed-tools.js';

const HAVE_BINARYEN = fs.existsSync('/usr/bin/wasm-opt') && fs.existsSync('/usr/bin/wasm-as');
if (!HAVE_BINARYEN && IN_CI) throw new Error('binaryen is missing (.ci/run installs it)');

interface Step {
  callGraph(wat: string): unknown;
  forkPathFunctions(graph: unknown, imports: string[]): Set<string>;
  asyncifyForFork(o: { input: string; output: string; imports: string[]; passThrough?: string[]; frames?: string[]; optimize?: string }): { instrumented: string[] };
}
const step = (): Promise<Step> => import(path.join(ROOT, 'scripts', 'asyncify-fork.mjs')) as Promise<Step>;

// main(x) = apply(cb, x) + 1; apply(f, x) = f(x) * 10 through the table; cb(x) = x + fork(). So main(5) is
// (5 + pid) * 10 + 1 in the parent and 51 in the child. `other` makes an indirect call of another type and
// `noop` shares cb's type: neither reaches the fork by its own body.
const WAT = `(module
  (type $cbt (func (param i32) (result i32)))
  (type $vt (func (param i32)))
  (import "env" "memory" (memory $m 1 1))
  (import "c" "fork" (func $fork (param i32 i32) (result i32)))
  (global $__stack_pointer (mut i32) (i32.const 4096))
  (global $__tls_base (mut i32) (i32.const 0))
  (table 3 3 funcref)
  (elem (i32.const 0) $cb $noop $sink)
  (func $cb (type $cbt) (param $x i32) (result i32)
    (i32.add (local.get $x) (call $fork (i32.const 8192) (i32.const 4096))))
  (func $noop (type $cbt) (param $x i32) (result i32) (local.get $x))
  (func $sink (type $vt) (param $x i32) (i32.store (i32.const 64) (local.get $x)))
  (func $other (param $x i32) (call_indirect (type $vt) (local.get $x) (i32.const 2)))
  (func $apply (param $f i32) (param $x i32) (result i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 16)))
    (i32.mul (call_indirect (type $cbt) (local.get $x) (local.get $f)) (i32.const 10)))
  (func $main (export "main") (param $x i32) (result i32)
    (call $other (local.get $x))
    (i32.add (call $apply (i32.const 0) (local.get $x)) (i32.const 1)))
  (export "plain" (func $noop))
  (export "__stack_pointer" (global $__stack_pointer))
  (export "__tls_base" (global $__tls_base)))`;

const builds = new Map<string, { bytes: Uint8Array; instrumented: string[] }>();
/**
 * The module through the build step: every function on a fork path instrumented, or only `frames` (a list; not
 * optimized, which would inline `apply` into `main`: its body would then be instrumented there).
 */
async function build(frames?: string[]): Promise<{ bytes: Uint8Array; instrumented: string[] }> {
  const key = frames?.join(',') ?? '';
  if (builds.has(key)) return builds.get(key)!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c-fork-'));
  try {
    fs.writeFileSync(path.join(dir, 'm.wat'), WAT);
    execFileSync('/usr/bin/wasm-as', ['-g', '--enable-mutable-globals', path.join(dir, 'm.wat'), '-o', path.join(dir, 'm.wasm')]);
    const r = (await step()).asyncifyForFork({ input: path.join(dir, 'm.wasm'), output: path.join(dir, 'out.wasm'), imports: ['c.fork'], frames, ...(frames ? { optimize: '-O0' } : {}) });
    builds.set(key, { bytes: fs.readFileSync(path.join(dir, 'out.wasm')), instrumented: r.instrumented });
    return builds.get(key)!;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function instance(bytes: Uint8Array, memory: WebAssembly.Memory, t: CForkThread): Record<string, unknown> {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const inst = new WebAssembly.Instance(module, { env: { memory }, c: { fork: t.forkImport } });
  t.bind(inst.exports, module);
  return inst.exports as Record<string, unknown>;
}

const bin = (name: string, fn: () => Promise<void> | void): void => { test(name, () => (HAVE_BINARYEN ? fn() : undefined)); };

bin('the build step instruments exactly the functions on a path to the fork: indirect calls resolved by type', async () => {
  const { instrumented } = await build();
  assert.equal(instrumented, ['apply', 'cb', 'main']);
});

bin('parent and child both continue inside the callback: fork() returns the pid in one and 0 in the other', async () => {
  const { bytes } = await build();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  let copy: Uint8Array | undefined;
  let where: CForkFrames | undefined;
  let spDuringFork: unknown;
  const parent = new CForkThread(() => memory, (frames) => {
    copy = new Uint8Array(memory.buffer).slice(); // the snapshot: unwound frames included
    where = frames;
    spDuringFork = (px.__stack_pointer as WebAssembly.Global).value; // host calls now push below the unwound frames
    return 7;
  }, () => WASI_ERRNO.ENOMEM);
  const px = instance(bytes, memory, parent);
  assert.ok(hasAsyncify(px));
  assert.is(parent.call('main', 5), 121);
  assert.is((px.__stack_pointer as WebAssembly.Global).value, 4096 - 16, 'the stack pointer after the rewind is the one at the fork');
  assert.ok(where && copy);
  assert.equal({ entry: where!.entry, args: where!.args, data: where!.data }, { entry: 'main', args: [5], data: 8192 });
  assert.is(spDuringFork, where!.stackPointer);

  const childMemory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  new Uint8Array(childMemory.buffer).set(copy!);
  const child = new CForkThread(() => childMemory, () => { throw new Error('no second fork'); }, () => WASI_ERRNO.ENOMEM);
  instance(bytes, childMemory, child);
  assert.is(child.resume(where!), 51);
  // and the parent runs on, forking again
  assert.is(parent.call('main', 1), 81);
});

bin('a failed fork returns -errno in the parent, and the frames above it continue', async () => {
  const { bytes } = await build();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const t = new CForkThread(() => memory, () => { throw new Error('no child today'); }, () => WASI_ERRNO.EAGAIN);
  instance(bytes, memory, t);
  assert.is(t.call('main', 10), (10 - WASI_ERRNO.EAGAIN) * 10 + 1);
  assert.is(t.lastError, 'no child today');
});

bin('fork outside call() and from a module without the build step: -ENOTSUP, nothing unwound', async () => {
  const { bytes } = await build();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const t = new CForkThread(() => memory, () => 1, () => WASI_ERRNO.ENOMEM);
  const x = instance(bytes, memory, t);
  assert.is((x.main as (n: number) => number)(5), (5 - WASI_ERRNO.ENOTSUP) * 10 + 1);
  assert.match(t.lastError, /not started through CForkThread\.call/);
  const plain = new CForkThread(() => memory, () => 1, () => WASI_ERRNO.ENOMEM);
  plain.bind({});
  assert.is(plain.forkImport(8192, 4096), -WASI_ERRNO.ENOTSUP);
});

bin('a build with a list forks under listed functions, and refuses a fork under any other before unwinding: -ENOTSUP naming it', async () => {
  const whole = await build(['apply', 'cb', 'main']);
  assert.equal(whole.instrumented, ['apply', 'cb', 'main']);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  let forks = 0;
  const t = new CForkThread(() => memory, () => ++forks + 6, () => WASI_ERRNO.ENOMEM);
  instance(whole.bytes, memory, t);
  assert.is(t.call('main', 5), 121);
  assert.is(forks, 1);

  // `apply`, the C function between main and the callback, is left out: the fork is refused, and every frame goes on
  const partial = await build(['cb', 'main']);
  assert.equal(partial.instrumented, ['cb', 'main']);
  assert.ok(forkFramesOf(new WebAssembly.Module(partial.bytes as Uint8Array<ArrayBuffer>)));
  const m2 = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const refused = new CForkThread(() => m2, () => { throw new Error('not reached'); }, () => WASI_ERRNO.ENOMEM);
  instance(partial.bytes, m2, refused);
  assert.is(refused.call('main', 5), (5 - WASI_ERRNO.ENOTSUP) * 10 + 1);
  assert.match(refused.lastError, /^fork: under apply \(wasm-function\[\d+\]\), a function this fork build's list does not hold/);
  // a build without a list carries none: every function on a fork path is instrumented
  assert.is(forkFramesOf(new WebAssembly.Module((await build()).bytes as Uint8Array<ArrayBuffer>)), undefined);
});

test.run();
