// os.fork in a page (Chromium and Firefox), with in-page children: the fork
// programs of tests/python/fork/ on the fork build (startBrowserPythonProcess's
// `fork: 'anywhere'`), each page process giving the stdout and exit status of
// the Node run of the same program (which tests/python-fork*.test.ts compare
// with Debian's python3.11): a fork at module level, at depth (sorted's key,
// map, __init__, __repr__, __del__, a generator, three calls deep, exec), with
// threads running and from a worker thread, threads started in a child and a
// fork from one of them, forks three deep from a method on a thread (each
// child's getpid its own, its getppid its parent's),
// os.wait and waitpid with WNOHANG, os.kill with SIGTERM and SIGKILL,
// register_at_fork's order; and the default build's refusal, which names the
// option. One page per browser.
//
// Under Node the programs run one after another in one process (SEQUENCE),
// each as __main__ of its own namespace between two marker lines: the fork
// build's start-up there is seconds of compiling, paid once. That run goes on
// while the browsers run the programs, each a page process of its own that
// returns its output; the comparisons follow.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAGE_ENV, ensurePythonPage, nodeCases, pageText, pythonPageTests } from './lib/python-page.js';
import { FORK_PROGRAMS } from './lib/python-fork.js';
import { ROOT } from './lib/embed-tools.js';
import { runPython } from './lib/python-run.js';
import type { PythonBrowserCase, PythonCaseOutput, PythonCaseResult } from './browser/python-suite.js';

/** Each browser's run of every case. */
const SUITE_DEADLINE_MS = 150_000;
/** One program's page process (the slowest takes about 11 s): a stalled one fails alone, naming itself. */
const PROGRAM_DEADLINE_MS = 40_000;

/** hooks.py last: the hooks it registers stay registered for the rest of the sequence. */
const PROGRAMS = ['top_level.py', 'depths.py', 'threads.py', 'child_threads.py', 'nested.py', 'wait_first.py', 'kill.py', 'pipes.py', 'hooks.py'];

/** Runs PROGRAMS ([name, source] pairs, defined before it) one after another. */
const SEQUENCE = `for name, source in PROGRAMS:
    print("=== " + name, flush=True)
    try:
        exec(compile(source, name, "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as e:
        code = 0 if e.code is None else e.code
    print("=== " + name + " exit " + str(code), flush=True)
`;

/** The default build: os.fork refused with the text that names the fork build, the hooks run, the parent goes on. */
const REFUSAL = `import os
hooks = []
os.register_at_fork(before=lambda: hooks.append("before"), after_in_parent=lambda: hooks.append("parent"))
try:
    os.fork()
except OSError as e:
    print("refused:", e)
print("hooks", hooks)
`;

const SOURCES = PROGRAMS.map((p) => [p, fs.readFileSync(path.join(FORK_PROGRAMS, p), 'utf8')]);

/** Each program's part of the Node run's output, and its exit status there. */
async function nodeOutputs(): Promise<Map<string, PythonCaseOutput>> {
  const r = await runPython(['-c', `PROGRAMS = ${JSON.stringify(SOURCES)}\n${SEQUENCE}`], {
    env: { ...PAGE_ENV, WASM_THREADS_PYTHON_FORK: 'anywhere' }, timeoutMs: 150_000,
  });
  test('the Node run of the fork programs ends with status 0 and writes nothing to stderr', () => {
    assert.is(r.stderr, '');
    assert.is(r.status, 0);
  });
  const out = pageText(r.stdout);
  return new Map(PROGRAMS.map((name) => {
    const part = new RegExp(`^=== ${name}\\n([\\s\\S]*?)^=== ${name} exit (\\d+)\\n`, 'm').exec(out);
    return [name, { stdout: part?.[1] ?? `(no part for ${name} in the Node run: ${out})`, stderr: '', status: part ? Number(part[2]) : -1 }];
  }));
}

if (!ensurePythonPage() || !fs.existsSync(path.join(ROOT, 'build', 'python-fork-anywhere.wasm'))) {
  test('os.fork in pages (skipped: build/python-fork-anywhere.wasm not built; npm run build:python)', () => {});
} else {
  const expected = nodeOutputs();
  const refusal = await nodeCases([{ name: 'the default build refuses, naming the option', source: REFUSAL }]);
  const forks = SOURCES.map(([name, source]): PythonBrowserCase => ({
    name, args: ['-c', source], env: PAGE_ENV, fork: 'anywhere', stdout: '', stderr: '', status: 0, later: true, deadlineMs: PROGRAM_DEADLINE_MS,
  }));
  const runs = await pythonPageTests('python page fork', [...forks, ...refusal], SUITE_DEADLINE_MS);
  const want = await expected;
  for (const run of runs) {
    if (typeof run.results === 'string') continue;
    for (const r of run.results as PythonCaseResult[]) {
      const got = r.got;
      if (got) test(`${run.browser}: python page fork: ${r.name} gives the Node run's stdout, stderr and status`, () => assert.equal(got, want.get(r.name)));
    }
  }
}
test.run();
