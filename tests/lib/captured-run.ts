// A command in its own process under a deadline, stdin from a string (or
// written once stdout shows a line), stdout and stderr captured byte for byte
// (latin1): how the differential suites run both sides.
import { spawn } from 'node:child_process';

export interface CapturedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** stdin held open until stdout has shown `after`, then `stdin` written and closed (a program that blocks in a read). */
export interface StdinAnswer { after: string; stdin: string }

/** What a differential suite's test gives a run of either side (each VM's runner sets its default deadline). */
export interface RunOptions {
  cwd?: string;
  stdin?: string;
  /** Instead of `stdin`: its stdin comes once stdout shows a line (the run's deadline still applies). */
  answer?: StdinAnswer;
  env?: Record<string, string>;
  /** Deadline of the whole run: the process is killed after it. */
  timeoutMs?: number;
}

export interface CapturedRunOptions {
  cwd?: string;
  stdin?: string;
  answer?: StdinAnswer;
  /** The whole environment of the process. */
  env: Record<string, string | undefined>;
  /** Deadline of the whole run: the process is killed after it. */
  timeoutMs: number;
  argv0?: string;
}

export function runCaptured(cmd: string, argv: string[], opts: CapturedRunOptions): Promise<CapturedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { argv0: opts.argv0, cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let answered = !opts.answer;
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      if (!answered && Buffer.concat(out).toString('latin1').includes(opts.answer!.after)) {
        answered = true;
        child.stdin.end(opts.answer!.stdin);
      }
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') });
    });
    child.stdin.on('error', () => {}); // a program that never reads stdin may exit first (EPIPE)
    if (!opts.answer) child.stdin.end(opts.stdin ?? '');
  });
}
