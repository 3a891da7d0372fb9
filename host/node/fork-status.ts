// How a Node fork child process reports its exit status to the fork server:
// one decimal line on a pipe the server opened as the child's fd STATUS_FD,
// written as the child's program ends (its output flushed), before the
// process is torn down. Both ends use these.
import { writeSync } from 'node:fs';

/** The child's file descriptor of the status pipe (stdio slot 4: after stdin, stdout, stderr and IPC). */
export const STATUS_FD = 4;

/** Child: reports `code` (its low 8 bits); false when the server is gone. */
export function reportStatus(code: number): boolean {
  try {
    writeSync(STATUS_FD, `${code & 0xff}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Server: the status in what the pipe delivered so far, once a whole line arrived. */
export function statusIn(text: string): number | undefined {
  const m = /^(\d+)\n/.exec(text);
  return m ? Number(m[1]) : undefined;
}
