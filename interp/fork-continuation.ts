// Fork continuation for the reference interpreter: the child resumes the
// forking frame from the snapshot with 0 pushed (fork's result in the child),
// runs it to the end and exits with its `host exit` code (0 when it halts).
// A child's printed output is not collected: it reports through its exit code.
import type { Runtime } from '../host/runtime.js';
import type { RegisteredThread } from '../host/thread.js';
import { interpOf } from '../host/modules.js';
import { Interpreter, type LoadedProgram, type ProgramRef } from './interpreter.js';

interface Ctx { runtime: Runtime; thread: RegisteredThread; data: { program: ProgramRef; ctx: number } }

export default function resume({ runtime, thread, data }: Ctx): number {
  const program: LoadedProgram = { ...data.program, labels: {}, lines: [] };
  const it = new Interpreter(thread, { spawn: (job, d) => runtime.spawn(job, d) });
  // a type store cut off by the fork (its writer is gone) must not stay locked
  interpOf(thread.core).interp_after_fork_child();
  it.push(data.ctx, 0);
  const r = it.run(data.ctx, program);
  return r.status === 'exited' ? (r.exitCode ?? 0) & 0xff : 0;
}
