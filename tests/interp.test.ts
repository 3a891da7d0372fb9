// The reference interpreter: opcode semantics, example programs, program
// errors with locations, safe points in loops, the attribute cache under mutation.
import { INTERP_TYPES, SLOTS } from '../host/layout.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createRuntime, type Runtime } from '../host/node/index.js';
import { AssembleError, OPS, assemble } from '../interp/assembler.js';
import { Interpreter, InterpreterError, CTX } from '../interp/interpreter.js';
import { shutdown, waitFor, within } from './lib/helpers.js';

const PROGRAMS = new URL('../../interp/programs/', import.meta.url);
const INTERP_JOB = new URL('../scripts/jobs/interp.js', import.meta.url);

async function withMain<T>(fn: (rt: Runtime, it: Interpreter) => T): Promise<T> {
  const rt = await createRuntime({ linked: ['interp'], capacity: 8 });
  rt.main.attach();
  try {
    return fn(rt, new Interpreter(rt.main));
  } finally {
    rt.main.detach();
    await rt.close();
  }
}

function runSource(it: Interpreter, src: string, args: number[] = []): number[] {
  const p = it.load(assemble(src));
  return it.run(it.frame(p, 0, args), p).output;
}

const SEMANTICS: [string, string, number[]][] = [
  ['push/print', 'push 7\nhost print\nhalt', [7]],
  ['pop', 'push 1\npush 2\npop\nhost print\nhalt', [1]],
  ['dup', 'push 3\ndup\nadd\nhost print\nhalt', [6]],
  ['swap', 'push 1\npush 2\nswap\nsub\nhost print\nhalt', [1]],
  ['add sub mul', 'push 6\npush 7\nmul\npush 2\nsub\npush -40\nadd\nhost print\nhalt', [0]],
  ['lt eq', 'push 1\npush 2\nlt\nhost print\npush 2\npush 2\neq\nhost print\npush 3\npush 2\nlt\nhost print\nhalt', [1, 1, 0]],
  ['jmp jz', 'push 0\njz a\npush 99\nhost print\na: push 1\njz b\npush 5\nhost print\njmp c\nb: push 98\nhost print\nc: halt', [5]],
  ['load store', 'push 10\npush 20\nload 0\nstore 1\nload 1\nhost print\nhalt', [10]],
  ['globals', '.globals 2\npush 5\ngstore 1\npush 3\ngadd 1\nhost print\ngload 1\nhost print\nhalt', [8, 8]],
  ['call enter ret', 'push 4\ncall sq\nhost print\nhalt\nsq: enter 1\nload -3\ndup\nmul\nret', [16]],
  ['attributes', 'push 2\npush 42\nstore_attr 5\npush 2\nload_attr 5\nhost print\npush 2\nload_attr_uncached 5\nhost print\nhalt', [42, 42]],
  ['lock unlock', 'lock 0\nlock 0\nunlock 0\nunlock 0\npush 1\nhost print\nhalt', [1]],
  ['poll', 'poll\npush 1\nhost print\nhalt', [1]],
];

test('every opcode does what the table says', () =>
  within(20_000, () => withMain((_rt, it) => {
    for (const [name, src, out] of SEMANTICS) {
      it.output.length = 0;
      assert.equal(runSource(it, src), out, name);
    }
    assert.is(Object.keys(OPS).length, 27);
  })));

test('example programs print what they compute', () =>
  within(20_000, () => withMain((_rt, it) => {
    const expected: Record<string, number[]> = { counter: [5050], factorial: [3628800] };
    for (const [name, out] of Object.entries(expected)) {
      it.output.length = 0;
      assert.equal(runSource(it, readFileSync(new URL(`${name}.asm`, PROGRAMS), 'utf8')), out, name);
    }
  })));

test('threads, locks, forks and attribute mutation from inside the interpreter', () =>
  within(90_000, async () => {
    const rt = await createRuntime({ linked: ['interp'], capacity: 8, fork: { continuation: new URL('../interp/fork-continuation.js', import.meta.url), pool: 1 } });
    try {
      rt.main.attach();
      const expected: Record<string, number[]> = { threads: [2000], 'fork-loop': [7, 8, 9], 'fork-threads': [1], 'attr-cache': [100] };
      for (const [name, out] of Object.entries(expected)) {
        const it = new Interpreter(rt.main, { spawn: (j, d) => rt.spawn(j, d) });
        assert.equal(runSource(it, readFileSync(new URL(`${name}.asm`, PROGRAMS), 'utf8')), out, name);
      }
      rt.main.detach();
    } finally {
      await shutdown(rt);
    }
  }));

test('fork from inside the interpreter: the parent gets a pid, the child continues the frame with 0', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ linked: ['interp'], capacity: 8, fork: { continuation: new URL('../interp/fork-continuation.js', import.meta.url), pool: 1 } });
    try {
      rt.main.attach();
      const it = new Interpreter(rt.main);
      // parent: prints the pid and the child's status; child: exits 40 + (fork result == 0)
      const out = runSource(it, 'host fork\ndup\njz child\ndup\nhost print\nhost waitpid\nhost print\nhalt\nchild: push 0\neq\npush 40\nadd\nhost exit');
      rt.main.detach();
      assert.is(out.length, 2);
      assert.ok(out[0] > 0 && out[0] !== process.pid, 'a real pid');
      assert.is(out[1], 41, 'the child saw 0');
    } finally {
      await shutdown(rt);
    }
  }));

test('assembly errors name the line', () => {
  const cases: [string, RegExp][] = [
    ['push 1\nfrobnicate\n', /line 2: unknown instruction: frobnicate/],
    ['jmp nowhere', /line 1: unknown label: nowhere/],
    ['push', /line 1: push needs an operand/],
    ['add 3', /line 1: add takes no operand/],
    ['push 1x', /line 1: not an integer: 1x/],
    ['a:\na:\nhalt', /line 2: label a defined twice/],
    ['host teleport', /line 1: unknown host operation: teleport/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => assemble(src), (e: unknown) => e instanceof AssembleError && re.test((e as Error).message), src);
  }
});

test('runtime errors are typed, carry the source line, and never trap', () =>
  within(20_000, () => withMain((_rt, it) => {
    const cases: [string, RegExp][] = [
      ['push 1\nadd\nhalt', /line 2: stack underflow/],
      ['push 1\npop\npop\nhalt', /line 3: stack underflow/],
      ['load 5\nhalt', /line 1: no such local/],
      ['gload 0\nhalt', /line 1: no such global/],
      ['push 9\nload_attr 1\nhalt', /line 2: bad type or attribute/],
      ['push 1\nload_attr 3\nhalt', /line 2: no such attribute/],
      ['unlock 0\nhalt', /line 1: .*not held by this thread/],
      ['lock 77\nhalt', /line 1: .*no such lock/],
      ['push 1', /jump out of the program/],
    ];
    for (const [src, re] of cases) {
      assert.throws(() => runSource(it, src), (e: unknown) => e instanceof InterpreterError && re.test((e as Error).message), src);
    }
    // a corrupted opcode in loaded code
    const p = it.load(assemble('push 1\nhalt'));
    new Int32Array(it.thread.memory.buffer)[(p.code >> 2) + 2] = 999;
    assert.throws(() => it.run(it.frame(p), p), (e: unknown) => e instanceof InterpreterError && /line 2: bad opcode/.test((e as Error).message));
    // a context pointing into the fixed layout is refused
    const ctx = it.frame(p);
    new Int32Array(it.thread.memory.buffer)[(ctx + CTX.stack) >> 2] = SLOTS;
    assert.throws(() => it.run(ctx, p), (e: unknown) => e instanceof InterpreterError && /bad interpreter context/.test((e as Error).message));
    // stack overflow is caught
    const deep = it.load(assemble('f: call f'));
    assert.throws(() => it.run(it.frame(deep, 0, [], 64), deep), (e: unknown) => e instanceof InterpreterError && /stack overflow/.test((e as Error).message));
  })));

test('an endless interpreted loop reaches safe points: a stop succeeds while it runs', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ linked: ['interp'], capacity: 8 });
    try {
      rt.main.attach();
      const it = new Interpreter(rt.main);
      const p = it.load(assemble('.globals 1\nloop: push 1\ngadd 0\npop\njmp loop'));
      rt.main.detach();
      const w = rt.spawn(INTERP_JOB, { program: p });
      await w.registered();
      const i32 = new Int32Array(rt.memory.buffer);
      const count = () => Atomics.load(i32, p.globals >> 2);
      await waitFor(() => count() > 1000, 10_000, 'the loop to run');
      for (let k = 0; k < 20; k++) {
        rt.stopTheWorld({ timeoutMs: 2000 });
        const frozen = count();
        const until = performance.now() + 5;
        while (performance.now() < until) assert.is(count(), frozen, 'the loop ran while the world was stopped');
        rt.startTheWorld();
        await waitFor(() => count() !== frozen, 10_000, 'the loop to resume');
      }
      assert.ok(rt.stats().selfSuspends >= 1);
      await w.terminate();
    } finally {
      await shutdown(rt);
    }
  }));

test('attribute cache: hits while stable, invalidated by a store from another thread', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ linked: ['interp'], capacity: 8 });
    try {
      rt.main.attach();
      const it = new Interpreter(rt.main);
      runSource(it, 'push 3\npush 5\nstore_attr 1\nhalt');
      const p = it.load(assemble('.globals 1\nloop: push 3\nload_attr 1\ngstore 0\njmp loop'));
      rt.main.detach();
      const w = rt.spawn(INTERP_JOB, { program: p });
      await w.registered();
      const seen = () => Atomics.load(new Int32Array(rt.memory.buffer), p.globals >> 2);
      await waitFor(() => seen() === 5, 10_000, 'the reader to see 5');
      for (const v of [9, 11, 13]) {
        rt.main.attach();
        runSource(it, `push 3\npush ${v}\nstore_attr 1\nhalt`);
        rt.main.detach();
        await waitFor(() => seen() === v, 10_000, `the reader to see ${v}`);
      }
      await w.terminate();
    } finally {
      await shutdown(rt);
    }
  }));

test('an attribute store waits for no dead writer: a type record whose writer word names a gone thread fails E_BUSY', () =>
  within(20_000, () => withMain((rt, it) => {
    // a second registration, then DEAD: its handle in the type's writer word is a writer killed mid-store
    const dead = rt.core.register(999);
    assert.ok(dead > 0);
    assert.is(rt.core.mark_dead(dead), 0);
    const type = 2;
    const writer = (INTERP_TYPES + type * 1024 + 4) >> 2;
    const i32 = new Int32Array(rt.memory.buffer);
    const store = it.load(assemble(`push ${type}\npush 5\nstore_attr 1\nhalt`));
    Atomics.store(i32, writer, dead);
    assert.throws(() => it.run(it.frame(store), store), (e: unknown) => e instanceof InterpreterError && e.code === 'E_BUSY');
    // a FREE slot (a writer that unregistered) counts as gone too; an unclaimed word lets the store through
    assert.is(rt.core.unregister(dead), 0);
    assert.throws(() => it.run(it.frame(store), store), (e: unknown) => e instanceof InterpreterError && e.code === 'E_BUSY');
    Atomics.store(i32, writer, 0);
    assert.is(it.run(it.frame(store), store).status, 'halted');
    assert.is(Atomics.load(i32, writer), 0, 'the writer word is free again after the store');
  })));

test('a lock whose owner died: the run returns E_OWNER_DEAD with the lock held, and the frame resumes after the lock', () =>
  within(20_000, () => withMain((rt, it) => {
    const lock = rt.core.lock_create(1);
    const dead = rt.core.register(998);
    assert.is(rt.core.attach(dead), 0);
    assert.is(rt.core.lock_acquire(dead, lock, 0), 0);
    assert.is(rt.core.detach(dead), 0);
    assert.is(rt.core.mark_dead(dead), 0);
    const p = it.load(assemble(`lock ${lock}\npush 1\nhost print\nunlock ${lock}\nhalt`));
    const frame = it.frame(p);
    assert.throws(() => it.run(frame, p), (e: unknown) => e instanceof InterpreterError && e.code === 'E_OWNER_DEAD');
    assert.is(rt.core.lock_owner(lock), rt.main.handle, 'the lock was taken over');
    assert.is(it.field(frame, 'errorPc'), 0, 'the error names the lock instruction');
    assert.is(it.field(frame, 'pc'), 1, 'the frame resumes after it');
    assert.is(rt.core.lock_consistent(rt.main.handle, lock), 0);
    assert.equal(it.run(frame, p).output, [1], 'resumed without taking the lock again');
    assert.is(rt.core.lock_owner(lock), 0, 'and released it');
  })));

test('hits and misses are counted in the frame', () =>
  within(20_000, () => withMain((_rt, it) => {
    const p = it.load(assemble('push 4\npush 1\nstore_attr 0\npush 0\nloop: dup\npush 100\nlt\njz end\npush 4\nload_attr 0\npop\npush 1\nadd\njmp loop\nend: halt'));
    const ctx = it.frame(p);
    it.run(ctx, p);
    assert.is(it.field(ctx, 'misses'), 1);
    assert.is(it.field(ctx, 'hits'), 99);
  })));

test.run();
