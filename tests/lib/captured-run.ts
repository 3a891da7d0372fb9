// A command in its own process under a deadline, stdin from a string, stdout
// and stderr captured byte for byte (latin1): how the differential suites run
// both sides.
import { spawn } from 'node:child_process';

export interface CapturedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What a differential suite's test gives a run of either side (each VM's runner sets its default deadline). */
export interface RunOptions {
  cwd?: string;
  stdin?: string;
  env?: Record<string, string>;
  /** Deadline of the whole run: the process is killed after it. */
  timeoutMs?: number;
}

export interface CapturedRunOptions {
  cwd?: string;
  stdin?: string;
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
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') });
    });
    child.stdin.on('error', () => {}); // a program that never reads stdin may exit first (EPIPE)
    child.stdin.end(opts.stdin ?? '');
  });
}
