// Fork continuation for the per-child memory bench: the child stays alive until
// data.release exists (bounded), then exits with status 0.
import { existsSync } from 'node:fs';

export default async function holdUntilReleased(ctx: { data: { release: string } | null }): Promise<number> {
  const end = performance.now() + 120_000;
  while (ctx.data && !existsSync(ctx.data.release) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  return 0;
}
