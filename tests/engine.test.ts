// The engine under test: the Liftoff miscompile's probe decides whether this
// engine needs --no-liftoff, and the project's flags (host/node/engine.ts)
// must agree with it; no library import sets a flag; an embedder on an
// affected engine is warned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  applyEngineFlags, eagerTierUpPerFunction, engineFlags, engineFlagsInEffect, liftoffMiscompilesWait, probeWaitReload, type EngineUse,
} from '../host/node/engine.js';
import { InvalidArgumentError } from '../host/errors.js';
import { within } from './lib/deadline.js';

const ENGINE = new URL('../host/node/engine.js', import.meta.url).href;
const NODE_INDEX = new URL('../host/node/index.js', import.meta.url).href;

/** Runs `code` (an ES module) in a fresh node with `flags` and nothing preloaded. */
function node(flags: string[], code: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, '--input-type=module', '-e', code], { timeout: 60_000, cwd: fileURLToPath(new URL('.', import.meta.url)) },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })));
  });
}

test('the probe in Liftoff code finds the miscompile exactly where the project says the engine has it', () =>
  within(60_000, async () => {
    // Liftoff only: no tier-up moves the probe's loop to TurboFan while it runs
    const { stdout } = await node(['--liftoff', '--no-wasm-tier-up'], `import { probeWaitReload } from '${ENGINE}'; console.log(probeWaitReload(1000));`);
    const wrong = Number(stdout.trim());
    assert.ok(Number.isInteger(wrong), stdout);
    assert.is(wrong > 0, liftoffMiscompilesWait, `${wrong} of 1000 re-reads wrong in Liftoff code on V8 ${process.versions.v8}`);
    assert.equal(engineFlags('core'), wrong > 0 ? ['--no-liftoff'] : []);
  }));

test('with the project\'s flags no re-read after a wait is wrong', () => {
  assert.is(probeWaitReload(1000), 0);
  // a VM's never-returning loop is compiled by TurboFan on every engine: the named loop up front, or every function
  assert.equal(engineFlags('vm'), ['--no-liftoff']);
  assert.equal(engineFlags({ vmLoop: 670 }), eagerTierUpPerFunction ? ['--wasm-eager-tier-up-function=670'] : ['--no-liftoff']);
});

test('an engine use that is none of \'core\', \'vm\' or { vmLoop: a function index } is E_ARG, and sets nothing', () => {
  const bad: unknown[] = ['VM', '', null, 0, {}, { vmLoop: -1 }, { vmLoop: 1.5 }, { vmLoop: 2 ** 31 },
    { vmLoop: '3' }, { vmLoop: NaN }, { vmLoop: 1n }, [], () => 'vm', Symbol('vm')];
  for (let i = 0; i < 50; i++) bad.push({ vmLoop: (Math.random() - 0.5) * 2 ** (Math.random() * 40) + 0.5 });
  const before = engineFlagsInEffect();
  for (const [k, use] of bad.entries()) {
    try {
      applyEngineFlags(use as EngineUse);
      assert.unreachable(`accepted bad use #${k}`);
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      assert.is(e.code, 'E_ARG');
    }
  }
  assert.equal(engineFlagsInEffect(), before);
});

test('V8 compiles the function a VM use names by TurboFan before its first call, and the others in Liftoff', () =>
  within(60_000, async () => {
    // an import, then $first (export a) and $second (export b)
    const { stdout } = await node(['--allow-natives-syntax'], `
      import { applyEngineFlags } from '${ENGINE}';
      import { functionIndex } from '${new URL('../host/wasm-names.js', import.meta.url).href}';
      import { NAMED } from '${new URL('./lib/named-module.js', import.meta.url).href}';
      applyEngineFlags({ vmLoop: functionIndex(NAMED, 'second') });
      const { exports: e } = new WebAssembly.Instance(new WebAssembly.Module(NAMED), { m: { f() {} } });
      e.a(); e.b();
      console.log(JSON.stringify({ a: [%IsLiftoffFunction(e.a), %IsTurboFanFunction(e.a)], b: [%IsLiftoffFunction(e.b), %IsTurboFanFunction(e.b)] }));`);
    const got = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, [boolean, boolean]>;
    assert.equal(got.b, [false, true], 'the named function is TurboFan code at its first call');
    // where a VM gets --no-liftoff nothing runs in Liftoff
    assert.equal(got.a, eagerTierUpPerFunction ? [true, false] : [false, true], 'the other starts in Liftoff');
  }));

test('with a VM\'s flags a module that has no function of that index still compiles (the core beside the VM)', () =>
  within(60_000, async () => {
    // index 1000 of a 3-function module; an engine that hangs on it must not get the flag (eagerTierUpPerFunction)
    const { stdout } = await node([], `
      import { applyEngineFlags } from '${ENGINE}';
      import { compileWasm } from '${new URL('../host/compile.js', import.meta.url).href}';
      import { NAMED } from '${new URL('./lib/named-module.js', import.meta.url).href}';
      applyEngineFlags({ vmLoop: 1000 });
      const late = setTimeout(() => { console.log('pending'); process.exit(0); }, 10_000);
      const m = await compileWasm(NAMED);
      clearTimeout(late);
      console.log(WebAssembly.Module.exports(m).length);`);
    assert.is(stdout.trim(), '2');
  }));

test('importing the library sets no V8 flag; an affected engine warns the embedder at createRuntime', () =>
  within(60_000, async () => {
    const run = (apply: boolean) => node([], `
      import * as lib from '${NODE_INDEX}';
      import { probeWaitReload } from '${ENGINE}';
      // compiled after the import: Liftoff unless a flag was set
      const wrongAfterImport = probeWaitReload(1000);
      ${apply ? 'lib.applyEngineFlags();' : ''}
      const rt = await lib.createRuntime();
      await rt.close();
      console.log(JSON.stringify({ wrongAfterImport }));`);
    const bare = await run(false);
    assert.is(JSON.parse(bare.stdout.trim()).wrongAfterImport > 0, liftoffMiscompilesWait, 'the import left the tiering alone');
    assert.is(bare.stderr.includes('WTC_LIFTOFF'), liftoffMiscompilesWait, bare.stderr);
    const applied = await run(true);
    assert.not.ok(applied.stderr.includes('WTC_LIFTOFF'), applied.stderr);
  }));

test('a fork child keeps the tiering node\'s command line gave, applyEngineFlags or not', () =>
  within(60_000, async () => {
    const { stdout } = await node(['--no-liftoff'], `
      import { applyEngineFlags, childEngineFlags, engineFlagsInEffect } from '${ENGINE}';
      const before = childEngineFlags();
      applyEngineFlags();
      console.log(JSON.stringify({ before, after: childEngineFlags(), inEffect: engineFlagsInEffect() }));`);
    const got = JSON.parse(stdout.trim()) as Record<string, string[]>;
    for (const [k, flags] of Object.entries(got)) assert.ok(flags.includes('--no-liftoff'), `${k}: ${flags.join(' ')}`);
  }));

test.run();
