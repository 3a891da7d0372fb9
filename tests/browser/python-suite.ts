// The Python threads suite inside a page (tests/python-browser.test.ts runs it
// in Chromium and Firefox): each case runs `python3.11 args…` as an in-page
// CPython process (vms/python/host/browser.ts), its threads on workers, and
// requires the stdout, stderr and exit status the Node side gives it (the
// Node run's). While a process runs, the page's own thread keeps turning: it
// counts its timer ticks and reads the output log as it grows. Every wait has
// a deadline.
import { outputText, readOutput, startBrowserPythonProcess } from '../../vms/python/host/browser.js';
import { assert, equal, within } from './page-helpers.js';
import { forceRelayWaits } from '../../host/wait.js';

export interface PythonBrowserCase {
  name: string;
  args: string[];
  env?: Record<string, string>;
  stdout: string;
  stderr: string;
  status: number;
  /** The page kills the process (p.kill()) once its stdout holds this. */
  killAt?: string;
  /** Its stdin (startBrowserPythonProcess's `stdin`). */
  stdin?: string;
  /** Files the page gives the program (startBrowserPythonProcess's `files`). */
  files?: Record<string, string>;
  /** Files the page must find afterwards, with these contents (the program wrote them). */
  wrote?: Record<string, string>;
  /** The page's waits go through relay workers, as in a browser without Atomics.waitAsync (Firefox ESR 140). */
  relayWaits?: boolean;
  /** Which build (startBrowserPythonProcess's `fork`): 'anywhere' forks, with in-page children. */
  fork?: 'anywhere' | 'default';
  /**
   * The page does not compare stdout, stderr and status: it returns them (`got`), and the Node side compares them
   * with a Node run that went on while the page ran.
   */
  later?: boolean;
  /** The process's deadline (default PROCESS_DEADLINE_MS): past it the process is killed and the case fails with its output so far. */
  deadlineMs?: number;
}

/** What a case's process gave. */
export interface PythonCaseOutput { stdout: string; stderr: string; status: number }

export interface PythonCaseResult {
  name: string; ok: boolean; error?: string; ms: number; ticks?: number; liveWrites?: number; got?: PythonCaseOutput;
}

const PROCESS_DEADLINE_MS = 120_000;

async function runCase(c: PythonBrowserCase): Promise<{ ticks: number; liveWrites: number; got?: PythonCaseOutput }> {
  forceRelayWaits(c.relayWaits ?? false);
  try {
    return await runProcess(c);
  } finally {
    forceRelayWaits(false);
  }
}

async function runProcess(c: PythonBrowserCase): Promise<{ ticks: number; liveWrites: number; got?: PythonCaseOutput }> {
  const p = await startBrowserPythonProcess(c.args, { env: c.env, files: c.files, stdin: c.stdin, fork: c.fork });
  let running = true;
  let ticks = 0;
  let liveWrites = 0;
  let next = 0;
  let stdoutSoFar = '';
  const decoder = new TextDecoder();
  const tick = () => {
    if (!running) return;
    ticks++;
    const r = readOutput(p.output, next);
    next = r.next;
    liveWrites += r.records.length;
    for (const { fd, bytes } of r.records) if (fd === 1) stdoutSoFar += decoder.decode(bytes, { stream: true });
    if (c.killAt !== undefined && stdoutSoFar.includes(c.killAt)) p.kill();
    setTimeout(tick, 10);
  };
  setTimeout(tick, 0);
  const status = await within(c.deadlineMs ?? PROCESS_DEADLINE_MS, () => p.status, `${c.name}: the process`).catch((e: unknown) => {
    // the next case gets the page's workers, and the failure says how far this one got
    p.kill();
    throw new Error(`${e instanceof Error ? e.message : String(e)}; its stdout so far: ${JSON.stringify(outputText(p.output, 1))}`);
  }).finally(() => { running = false; });
  const stdout = outputText(p.output, 1);
  const stderr = outputText(p.output, 2);
  const what = `${c.name} (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`;
  if (!c.later) {
    equal(status, c.status, `${what}: exit status`);
    equal(stdout, c.stdout, `${c.name}: stdout`);
    equal(stderr, c.stderr, `${c.name}: stderr`);
  }
  assert(!readOutput(p.output).truncated, `${c.name}: the output fitted its log`);
  for (const [path, text] of Object.entries(c.wrote ?? {})) equal(new TextDecoder().decode(p.files.readFileSync(path)), text, `${c.name}: ${path}`);
  // the process runs on workers: the page's thread turned while it ran
  assert(ticks > 0, `${c.name}: the page's thread ran timers while the process ran`);
  return { ticks, liveWrites, ...(c.later ? { got: { stdout, stderr, status } } : {}) };
}

export async function runPythonSuite(cases: PythonBrowserCase[]): Promise<PythonCaseResult[]> {
  const results: PythonCaseResult[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    try {
      const seen = await runCase(c);
      results.push({ name: c.name, ok: true, ms: performance.now() - t0, ...seen });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e), ms: performance.now() - t0 });
    }
  }
  return results;
}
