// Runs the Promela models under assembly/model with spin: generate pan.c, compile it
// with gcc, run the verifier in a temporary directory, and read its verdict.
import { execFile } from 'node:child_process';
import * as assert from 'uvu/assert';
import { mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODEL_DIR = fileURLToPath(new URL('../../../assembly/model/', import.meta.url));

export interface Verdict {
  /** pan's error count (0: every property holds in every state it reached). */
  errors: number;
  /** the first error pan met: 'assertion violated', 'invalid end state', 'acceptance cycle', … */
  kind: string;
  states: number;
  seconds: number;
  /** pan's total memory, MB */
  memoryMb: number;
  /** true when pan ran out of depth or memory: the search was not exhaustive. */
  truncated: boolean;
  output: string;
}

export interface Check {
  model: 'stw.pml' | 'locks.pml' | 'reattach.pml' | 'seqlock.pml' | 'waitpid.pml' | 'gilstop.pml';
  /** spin -D options: the configuration and the seeded bug. */
  defines?: string[];
  /** extra gcc -D options (the property mode). */
  cflags?: string[];
  /** extra ./pan options. */
  panArgs?: string[];
  deadlineMs: number;
}

function run(cmd: string, args: string[], cwd: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: ms, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      // pan exits non-zero when it finds an error: its verdict is in stdout either way.
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error(`${cmd} is not installed`));
      else if (err && err.killed) reject(new Error(`${cmd} passed its deadline of ${ms} ms`));
      else if (err && cmd !== './pan') reject(new Error(`${cmd} ${args.join(' ')} failed:\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

export async function verify(c: Check): Promise<Verdict> {
  const dir = await mkdtemp(join(tmpdir(), 'wtc-model-'));
  const end = Date.now() + c.deadlineMs;
  const left = () => Math.max(1, end - Date.now());
  try {
    await copyFile(join(MODEL_DIR, c.model), join(dir, c.model));
    const d = (c.defines ?? []).map((x) => `-D${x}`);
    await run('spin', [...d, '-a', c.model], dir, left());
    await run('gcc', ['-O2', '-w', ...(c.cflags ?? []), '-o', 'pan', 'pan.c'], dir, left());
    const output = await run('./pan', ['-m200000', '-w26', ...(c.panArgs ?? [])], dir, left());
    const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
    return {
      errors: num(/errors: (\d+)/),
      // the known kinds first: an assertion's text follows its kind ("assertion violated inAttach")
      kind: /pan:\d+: (assertion violated|invalid end state|acceptance cycle|[a-z ]+)/.exec(output)?.[1]?.trim() ?? '',
      states: num(/([\d.e+]+) states, stored/),
      seconds: num(/pan: elapsed time ([\d.e+]+) seconds/),
      memoryMb: num(/([\d.]+)\s+total actual memory usage/),
      truncated: /max search depth too small|reached -DMEMLIM bound|out of memory/.test(output),
      output,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * stw.pml's configuration in the tests: R1 (may die mid-stop) and R2 both stop and start; T2 registers (into a FREE
 * or reused slot), runs and may die. Four processes with T1 do not fit a test's time exhaustively (see docs/MODEL.md).
 */
export const STW = ['NO_T1'];

/** Safety: assertions and invalid end states, no never claim, exhaustive
 * (-DCOLLAPSE stores each state compressed: a quarter of the memory). */
export const SAFETY = ['-DSAFETY', '-DNOCLAIM', '-DCOLLAPSE'];
/** For a seeded bug: the same search with the processes tried in reverse order,
 * which reaches the stranded-registrant interleaving first (any order is sound). */
export const SAFETY_BUG = [...SAFETY, '-DREVERSE'];
/** Liveness: the model's ltl claim, acceptance cycles under weak fairness. */
export const LIVENESS = { cflags: ['-DNFAIR=3'], panArgs: ['-a', '-f'] };
export const LIVENESS_BUG = { cflags: ['-DNFAIR=3', '-DREVERSE'], panArgs: ['-a', '-f'] };

export function report(name: string, v: Verdict): void {
  console.log(`  model ${name}: ${v.states} states, ${v.seconds} s, ${v.memoryMb} MB, errors ${v.errors}${v.kind ? ` (${v.kind})` : ''}`);
}

/** The search was exhaustive and found no error. */
export function holds(name: string, v: Verdict): void {
  report(name, v);
  assert.is(v.truncated, false, 'search was not exhaustive');
  assert.ok(v.states > 1000, 'pan explored the model');
  assert.is(v.errors, 0, v.output);
}

/** A seeded bug: pan found an error of `kind`. */
export function rejected(name: string, v: Verdict, kind: string): void {
  report(name, v);
  assert.ok(v.errors > 0, `${name} was not rejected`);
  assert.is(v.kind, kind);
}
