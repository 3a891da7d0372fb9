// CPython's own regression tests, run by its own runner (`-m test`, the test
// package of the same source package, build/python-lib) through the
// wasm-threads-python command, and the runner's counts per test file.
import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import path from 'node:path';
import { ensurePythonWasm, runPython } from './python-run.js';

export interface RegrtestFile {
  /** unittest's "Ran N tests". */
  run: number;
  failures: number;
  errors: number;
  skipped: number;
  /** Each skipped test (or the whole file) with the reason the test gives. */
  skips: Array<{ test: string; reason: string }>;
  /** The tests unittest reported as FAIL or ERROR (`module.Class.test`). */
  failed: string[];
  /** regrtest's verdict for the file. */
  result: 'passed' | 'failed' | 'skipped' | 'unknown';
}

/** Reads `python -m test -v` output: one entry per test file, in the order they ran. */
export function parseRegrtest(out: string): Map<string, RegrtestFile> {
  const files = new Map<string, RegrtestFile>();
  let current: RegrtestFile | undefined;
  let lastTest = '';
  for (const line of out.split('\n')) {
    // "[ 3/7] test_x", or "[ 3/7/1] test_x" once a file has failed.
    const head = /\[\s*\d+\/\d+(?:\/\d+)?\] (test_\w+)/.exec(line);
    if (head) {
      current = { run: 0, failures: 0, errors: 0, skipped: 0, skips: [], failed: [], result: 'unknown' };
      files.set(head[1], current);
      continue;
    }
    if (!current) continue;
    const whole = /^(test_\w+) skipped -- (.*)$/.exec(line) ?? /\] (test_\w+) skipped -- (.*)$/.exec(line);
    if (whole) { current.result = 'skipped'; current.skips.push({ test: whole[1], reason: whole[2] }); continue; }
    const name = /^(\S+) \(([^)]+)\)/.exec(line);
    if (name) lastTest = name[2];
    // A test with a docstring prints it on the next line, and its verdict after it.
    // unittest prints the reason's repr: in double quotes when it holds a single quote.
    const skip = /\.\.\. skipped (['"])(.*)\1$/.exec(line);
    if (skip) { current.skips.push({ test: lastTest, reason: skip[2] }); continue; }
    const bad = /^(?:FAIL|ERROR): \S+ \(([^)]+)\)/.exec(line);
    if (bad) { current.failed.push(bad[1]); continue; }
    const ran = /^Ran (\d+) tests? in/.exec(line);
    if (ran) { current.run += Number(ran[1]); continue; }
    const verdict = /^(OK|FAILED)(?: \((.*)\))?$/.exec(line);
    if (verdict) {
      for (const [, k, v] of (verdict[2] ?? '').matchAll(/(\w+)=(\d+)/g)) {
        if (k === 'failures') current.failures += Number(v);
        else if (k === 'errors') current.errors += Number(v);
        else if (k === 'skipped') current.skipped += Number(v);
      }
      current.result = verdict[1] === 'OK' ? 'passed' : 'failed';
    }
  }
  return files;
}

/** How a group runs, beyond its test files. */
export interface RegrtestOptions {
  /** The command's environment on top of the scratch HOME and TMPDIR (WASM_THREADS_PYTHON_FORK, say). */
  env?: Record<string, string>;
  /** regrtest's `-m` patterns: only the tests they match run. */
  match?: string[];
  /**
   * regrtest's `-i` patterns: the tests they match do not run. Only for a test whose verdict is the machine's load,
   * not the platform's, or one that would wait forever here instead of failing: each with its reason where it is
   * given.
   */
  ignore?: string[];
  /** Each file's skipped tests (`module.Class.test`), exactly: a test that skips for another reason fails the group. */
  skips?: Record<string, string[]>;
}

/** Runs `wasm-threads-python -m test -v tests…` in a scratch directory; the output and the counts per file. */
export async function runRegrtest(tests: string[], timeoutMs: number, o: RegrtestOptions = {}): Promise<{ status: number | null; out: string; files: Map<string, RegrtestFile> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'python-regrtest-'));
  try {
    const match = [...(o.match ?? []).flatMap((m) => ['-m', m]), ...(o.ignore ?? []).flatMap((m) => ['-i', m])];
    const r = await runPython(['-m', 'test', '-v', `--tempdir=${path.join(dir, 'tmp')}`, ...match, ...tests],
      { cwd: dir, timeoutMs, env: { HOME: dir, TMPDIR: dir, ...(o.env ?? {}) } });
    const out = r.stdout + r.stderr;
    return { status: r.status, out, files: parseRegrtest(r.stdout) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per file: "test_x: run N, failures F, errors E, skipped S". */
export function describe(files: Map<string, RegrtestFile>): string {
  return [...files].map(([name, f]) => `${name}: ${f.result}, run ${f.run}, failures ${f.failures}, errors ${f.errors}, skipped ${f.skipped}`).join('\n');
}

/**
 * A test file's body: `-m test -v` on `group` in one process (one start-up for the group), each file of it passing
 * except for the `expectedFailures` docs/PYTHON.md lists (exactly those fail), the runner's counts and every skip with
 * its reason printed. A file's deadline (tests/run.ts) bounds a group.
 */
export function regrtestSuite(group: string[], expectedFailures: Record<string, string[]> = {}, o: RegrtestOptions = {}): void {
  if (!ensurePythonWasm()) {
    test('CPython regression tests (skipped: clang-19 missing outside CI)', () => {});
  } else {
    test(`-m test ${group.join(' ')}`, async () => {
      const r = await runRegrtest(group, 170_000, o);
      console.log(describe(r.files));
      for (const [name, f] of r.files) for (const s of f.skips) console.log(`  ${name} skip: ${s.test}: ${s.reason}`);
      for (const name of group) {
        const f = r.files.get(name);
        assert.ok(f, `${name} did not run:\n${r.out.slice(-3000)}`);
        const expected = expectedFailures[name] ?? [];
        assert.equal([...f.failed].sort(), [...expected].sort(), `${name}: failed tests\n${r.out.slice(-3000)}`);
        if (!expected.length) assert.is(f.result, 'passed', `${name}: ${f.result}\n${r.out.slice(-3000)}`);
        assert.ok(f.run > 0, `${name} ran no test`);
        if (o.skips) assert.equal(f.skips.map((x) => x.test).sort(), [...(o.skips[name] ?? [])].sort(), `${name}: skipped tests`);
      }
      if (!Object.keys(expectedFailures).length) assert.is(r.status, 0, r.out.slice(-2000));
    });
  }
  test.run();
}
