// The published shape: `npm pack` makes a tarball, a fresh project installs it
// (its dependency comes from the registry) and runs a small program through
// the package's public entry points only.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './lib/helpers.js';
import { ROOT } from './lib/embed-tools.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const JOB = `// a worker: poll at every turn until the runtime closes
export default function job(ctx) {
  let turns = 0;
  while (!ctx.closing) { ctx.poll(); turns++; }
  return turns;
}
`;

const MAIN = `import { applyEngineFlags, createRuntime, ClosedError } from 'wasm-threads-core';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// the engine's tiering, before the first compile (docs/EMBEDDING.md, "Engines")
applyEngineFlags();
const rt = await createRuntime({ threads: 2, capacity: 8, job: new URL('./job.mjs', import.meta.url) });
await Promise.all(rt.workers.map((w) => w.registered()));
let stops = 0;
for (let i = 0; i < 5; i++) {
  rt.stopTheWorld({ timeoutMs: 10000 });
  const stopped = rt.threadStates().filter((t) => t.state === 'SUSPENDED').length;
  rt.startTheWorld();
  if (stopped === 2) stops++;
}
const files = {};
for (const spec of ['core.wasm', 'core.wasi.wasm', 'wasm_threads_core.h', 'host', 'embed-link']) {
  files[spec] = existsSync(fileURLToPath(import.meta.resolve('wasm-threads-core/' + spec)));
}
// the fork build step loads as a module: the files it imports are in the tarball too
files['asyncify-fork'] = typeof (await import('wasm-threads-core/asyncify-fork')).asyncifyForFork === 'function';
await rt.close(5000);
let closed = false;
try { rt.spawn(); } catch (e) { closed = rt.closed && e instanceof ClosedError; }
console.log(JSON.stringify({ stops, files, closed }));
`;

test('npm pack, install the tarball into a fresh project, run it through the public entry points', () =>
  within(170_000, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wtc-pack-'));
    try {
      const packed = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, timeout: 60_000 });
      const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
      assert.ok(existsSync(tarball), tarball);
      const project = join(dir, 'project');
      await run('mkdir', [project]);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
      await run(NPM, ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project, timeout: 150_000 });
      const installed = join(project, 'node_modules', 'wasm-threads-core');
      const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
      for (const name of ['.', './host', './core.wasm', './core.wasi.wasm', './interp.wasm', './wasm_threads_core.h']) {
        assert.ok(pkg.exports[name], `exports names ${name}`);
      }
      // every export target this build produced is in the tarball, with its types
      for (const target of Object.values(pkg.exports) as (string | { types: string; default: string })[]) {
        const files = typeof target === 'string' ? [target] : [target.types, target.default];
        for (const f of files) {
          if (existsSync(join(ROOT, f))) assert.ok(existsSync(join(installed, f)), `installed ${f}`);
        }
      }
      writeFileSync(join(project, 'job.mjs'), JOB);
      writeFileSync(join(project, 'main.mjs'), MAIN);
      const out = await run(process.execPath, ['main.mjs'], { cwd: project, timeout: 60_000 });
      const result = JSON.parse(out.stdout.trim().split('\n').pop()!);
      assert.is(result.stops, 5, 'every stop suspended both workers');
      assert.equal(result.files, { 'core.wasm': true, 'core.wasi.wasm': true, 'wasm_threads_core.h': true, host: true, 'embed-link': true, 'asyncify-fork': true });
      assert.ok(result.closed, 'a closed runtime refuses with ClosedError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test.run();
