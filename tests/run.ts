// Runs every *.test.js file in its own process under a deadline, so one hang
// fails its file instead of stalling the suite, and ends with one line:
// "N passed, N failed". `--node PATH` runs the files on another Node binary
// (.ci/run tests each engine line so); the other arguments pick files by the
// start of their names ("fork" is fork*.test.js, not python-fork-*). Each
// file's process starts with the engine's tiering flags
// (tests/lib/engine-flags.ts, preloaded) as the project's commands do.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arg, usage } from '../scripts/args.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const DEFAULT_FILE_DEADLINE_MS = 180_000;
const FILE_DEADLINE_MS = Number(process.env.TEST_FILE_DEADLINE_MS ?? DEFAULT_FILE_DEADLINE_MS);
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(usage('node dist/tests/run.js [--node PATH] [PREFIX…]',
    'runs the test files whose names start with a PREFIX (every file without one), each in its own process, '
      + `killed after TEST_FILE_DEADLINE_MS (from the environment; default: ${DEFAULT_FILE_DEADLINE_MS})`,
    { node: arg('', 'the node binary that runs the files, else the one running this') }) + '\n');
  process.exit(0);
}
const nodeAt = argv.indexOf('--node');
const node = nodeAt >= 0 ? argv.splice(nodeAt, 2)[1] : process.execPath;
if (!node) throw new Error('--node needs the path of a node binary');
const only = argv;
const PRELOAD = new URL('./lib/engine-flags.js', import.meta.url).href;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

let passed = 0;
let failed = 0;
// each file's wall time: the suite's budget is spent file by file, and the slowest are named at the end
const seconds: [string, number][] = [];
for (const file of files) {
  const t0 = performance.now();
  const out = await new Promise<{ code: number | null; text: string; killed: boolean }>((resolve) => {
    const child = spawn(node, ['--import', PRELOAD, `${dir}/${file}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { text += d; process.stderr.write(d); });
    let killed = false;
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, FILE_DEADLINE_MS);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, text, killed }); });
  });
  seconds.push([file, (performance.now() - t0) / 1000]);
  console.log(`${file}: ${seconds.at(-1)![1].toFixed(1)} s`);
  // uvu's summary: "Total: N", "Passed: N"
  const clean = out.text.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
  if (Number.isFinite(total) && Number.isFinite(ok) && !out.killed) {
    passed += ok;
    failed += total - ok;
    if (out.code !== 0 && total === ok) failed += 1; // exited badly after its tests
  } else {
    failed += 1;
    console.log(`\n${file}: ${out.killed ? `killed after ${FILE_DEADLINE_MS} ms` : `exited ${out.code}`} without a summary`);
  }
}
const slowest = [...seconds].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([f, t]) => `${f.replace(/\.test\.js$/, '')} ${t.toFixed(0)} s`);
console.log(`\n${files.length} files in ${seconds.reduce((sum, [, t]) => sum + t, 0).toFixed(0)} s; the slowest: ${slowest.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
