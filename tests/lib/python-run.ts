// Running Python for the Python tests: through the wasm-threads-python command
// (build/python.wasm on the core, vms/python/host/cli.ts) and through Debian's
// native python3.11, each in its own process under a deadline with the output
// captured byte for byte (latin1).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runCaptured, type CapturedRun, type RunOptions } from './captured-run.js';
import { IN_CI, ROOT, hasCommand } from './embed-tools.js';

export const PYTHON_WASM = path.join(ROOT, 'build', 'python.wasm');
export const PYTHON_CLI = fileURLToPath(new URL('../../vms/python/host/cli.js', import.meta.url));
/** sys.executable of python.wasm (the build writes it; vms/python/host/cli.ts PYTHON_EXECUTABLE). */
export const PYTHON_EXECUTABLE = path.join(ROOT, 'build', 'python-lib', 'bin', 'python3.11');
/** The differential programs (tests/python/*.py), read from the source tree. */
export const PYTHON_PROGRAMS = path.join(ROOT, 'tests', 'python');
export const NATIVE_PYTHON = '/usr/bin/python3.11';

export type PythonRun = CapturedRun;

/** A run's options; its deadline defaults to 120 s. */
export type PythonRunOptions = RunOptions;

/**
 * Builds build/python.wasm when it is missing; false when the toolchain is missing outside CI (the caller skips).
 * On CI a missing toolchain is a failure (.ci/run installs it).
 */
export function ensurePythonWasm(): boolean {
  if (fs.existsSync(PYTHON_WASM) && fs.existsSync(PYTHON_EXECUTABLE)) return true;
  if (!hasCommand('clang-19') && !IN_CI) return false;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-python.mjs')], {
    cwd: ROOT, env: { ...process.env, NEED_PYTHON: '1' }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_200_000,
  });
  return true;
}

/** Whether Debian's python3.11 is installed (on CI it must be). */
export function hasNativePython(): boolean {
  if (fs.existsSync(NATIVE_PYTHON)) return true;
  if (IN_CI) throw new Error(`${NATIVE_PYTHON} is missing (.ci/run installs it)`);
  return false;
}

/** The environment both interpreters run with: only what a case gives, plus the locale and PATH. */
function environment(opts: PythonRunOptions): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', ...(opts.env ?? {}) };
}

function run(cmd: string, argv: string[], opts: PythonRunOptions): Promise<PythonRun> {
  return runCaptured(cmd, argv, { cwd: opts.cwd, stdin: opts.stdin, answer: opts.answer, timeoutMs: opts.timeoutMs ?? 120_000, env: environment(opts) });
}

/** `python3.11 args…` on build/python.wasm: the wasm-threads-python command. */
export function runPython(args: string[], opts: PythonRunOptions = {}): Promise<PythonRun> {
  return run(process.execPath, [PYTHON_CLI, ...args], opts);
}

/** `python3.11 args…` on Debian's native python3.11. */
export function runNativePython(args: string[], opts: PythonRunOptions = {}): Promise<PythonRun> {
  return run(NATIVE_PYTHON, args, opts);
}

/** The environment every differential case adds to its own. */
const DIFF_ENV = { TZ: 'UTC', PYTHON_DIFF_VAR: 'v' };

/**
 * Runs `python3.11 args…` natively and on python.wasm at once, each in a fresh working directory of its own, and
 * asserts byte-identical stdout, stderr and exit status, and that no file was left behind. Messages that name the
 * interpreter or the working directory by path name them the same way on both sides; `normalize` is applied to both
 * stderrs (a difference the case documents).
 */
export async function sameAsNative(args: string[], opts: PythonRunOptions & { normalize?: (stderr: string) => string } = {}): Promise<void> {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'python-diff-')));
  try {
    const o = (cwd: string) => ({ ...opts, cwd, env: { ...DIFF_ENV, ...(opts.env ?? {}) } });
    const [native, wasm] = await Promise.all([runNativePython(args, o(dirs[0])), runPython(args, o(dirs[1]))]);
    const norm = (s: string, cwd: string) => s.split(cwd).join('$CWD').split(PYTHON_EXECUTABLE).join('python3.11').split(NATIVE_PYTHON).join('python3.11');
    const what = `python3.11 ${args.join(' ')}`;
    assert.is(norm(wasm.stdout, dirs[1]), norm(native.stdout, dirs[0]), `${what}: stdout`);
    const n = opts.normalize ?? ((e: string) => e);
    assert.is(n(norm(wasm.stderr, dirs[1])), n(norm(native.stderr, dirs[0])), `${what}: stderr`);
    assert.is(wasm.status, native.status, `${what}: exit status`);
    for (const d of dirs) assert.equal(fs.readdirSync(d).sort(), [], `${what}: files left in the working directory`);
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
