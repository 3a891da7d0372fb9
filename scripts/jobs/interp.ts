// Runs a loaded reference-interpreter program on this worker and returns its
// output. data: { program, entry?, args?, record? } — with `record` (a thread
// record from `host spawn`) the thread's result is published there for `host join`.
import type { ThreadContext } from '../../host/worker.js';
import { Interpreter, type LoadedProgram } from '../../interp/interpreter.js';

interface Data { program: LoadedProgram; entry?: string | number; args?: number[]; record?: number }

export default function runProgram(ctx: ThreadContext): number[] {
  const { program, entry, args, record } = ctx.data as Data;
  const it = new Interpreter(ctx, { spawn: (job, data) => ctx.spawn(job, data) });
  const frame = it.frame(program, entry ?? 0, args ?? []);
  try {
    const r = it.run(frame, program);
    if (record !== undefined) it.finishThread(record, it.top(frame), false, frame);
    return r.output;
  } catch (e) {
    if (record !== undefined) it.finishThread(record, -1, true, frame);
    throw e;
  }
}
