// Fork continuation for the per-child memory bench (Node only): the child stays
// alive until data.release exists (bounded), then exits with status 0. node:fs
// is imported when it runs, so the module itself loads anywhere the jobs do.
export default async function holdUntilReleased(ctx: { data: { release: string } | null }): Promise<number> {
  const { existsSync } = await import('node:fs');
  const end = performance.now() + 120_000;
  while (ctx.data && !existsSync(ctx.data.release) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  return 0;
}
