// Fork continuation: exits with data.code, and then holds its teardown: its
// last exit handler writes data.holding and waits (bounded) for data.release
// to exist. A waitpid that returns while it holds saw the status before the
// teardown.
import { existsSync, writeFileSync } from 'node:fs';

interface Data { code: number; holding: string; release: string }

export default function holdExit(ctx: { data: Data }): number {
  const d = ctx.data;
  process.on('exit', () => {
    writeFileSync(d.holding, 'held');
    const nap = new Int32Array(new SharedArrayBuffer(4));
    const end = performance.now() + 30_000;
    while (!existsSync(d.release) && performance.now() < end) Atomics.wait(nap, 0, 0, 5);
  });
  return d.code;
}
