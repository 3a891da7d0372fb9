// The engine under test: the Liftoff miscompile's probe decides whether this
// engine needs --no-liftoff, and the project's flags (host/node/engine.ts)
// must agree with it; no library import sets a flag; an embedder on an
// affected engine is warned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { engineFlags, liftoffMiscompilesWait, probeWaitReload } from '../host/node/engine.js';
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
  // a VM's never-returning loop is compiled by TurboFan on every engine
  assert.equal(engineFlags('vm'), ['--no-liftoff']);
});

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
