// Every command of the project answers --help: each package.json script that
// runs one of the project's files prints what it does and its options, and
// ends with status 0 before it builds, serves or measures anything. The VMs'
// commands (npm run lua, npm run python) answer with the VM's own usage.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/** The VMs' commands: their options are the VM's. */
const VMS = new Set(['lua', 'python']);

/** The scripts made of project files run one after the other (`a && b`): name → [interpreter, file], one per file. */
const commands = Object.entries(scripts).flatMap(([name, line]) => {
  const steps = line.split(' && ').map((step) => /^(node|bash) ((?:dist\/)?(?:scripts|tests|vms)\/\S+)$/.exec(step));
  return steps.every((m) => m) ? steps.map((m, i) => [i ? `${name} (step ${i + 1})` : name, m![1], m![2]] as const) : [];
});

function help(interpreter: string, file: string): { status: number | null; out: string } {
  const r = spawnSync(interpreter === 'node' ? process.execPath : interpreter, [path.join(ROOT, file), '--help'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the commands read from package.json include the builds, the bench and the test runner', () => {
  const names = commands.map(([n]) => n);
  for (const n of ['gen:abi', 'build:lua', 'build:python', 'build:posix', 'build:c', 'bench', 'start', 'demo', 'serve']) {
    assert.ok(names.includes(n), `${n} is one`);
  }
});

for (const [name, interpreter, file] of commands.filter(([n]) => !VMS.has(n))) {
  test(`npm run ${name} -- --help prints its options and ends with 0`, () => {
    const { status, out } = help(interpreter, file);
    assert.is(status, 0, out);
    assert.ok(/^\S.*: \S/.test(out), `starts with the command and what it does: ${out.slice(0, 200)}`);
    assert.ok(out.includes('\noptions:\n') && out.includes('--help'), out);
  });
}

test('the test runner answers --help', () => {
  const { status, out } = help('node', 'dist/tests/run.js');
  assert.is(status, 0, out);
  assert.ok(out.includes('--node') && out.includes('TEST_FILE_DEADLINE_MS'), out);
});

test('the VMs\' commands answer --help with the VM\'s usage', () => {
  for (const name of VMS) {
    const command = commands.find(([n]) => n === name);
    assert.ok(command, `${name} is a command`);
    const [, interpreter, file] = command;
    const wasm = path.join(ROOT, 'build', `${name}.wasm`);
    if (!fs.existsSync(wasm)) continue; // not built on this machine: nothing runs
    assert.match(help(interpreter, file).out, /usage: /, name);
  }
});

test.run();
