// Spins in Wasm (diag.wasm), polling through the core's exported poll at every
// iteration (or never, with data.noPoll), counting progress in user word 0,
// until the diagnostics quit word is set.
import type { ThreadContext } from '../../host/worker.js';
import { diagOf } from '../../host/diag.js';

export default function spin(ctx: ThreadContext): number {
  const noPoll = (ctx.data as { noPoll?: boolean } | undefined)?.noPoll ? 1 : 0;
  return diagOf(ctx.core).diag_spin(ctx.handle, noPoll);
}
