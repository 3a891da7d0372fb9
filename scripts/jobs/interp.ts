// Runs a loaded reference-interpreter program on this worker; returns its
// output. data: { program: LoadedProgram, entry?: string | number }.
import type { ThreadContext } from '../../host/worker.js';
import { Interpreter, type LoadedProgram } from '../../interp/interpreter.js';

export default function runProgram(ctx: ThreadContext): number[] {
  const { program, entry } = ctx.data as { program: LoadedProgram; entry?: string | number };
  const it = new Interpreter(ctx);
  const frame = it.frame(program, entry ?? 0);
  return it.run(frame, program).output;
}
