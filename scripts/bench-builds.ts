// Sizes of the shipped builds (bytes and gzip -9): deterministic, so the
// figures are comparable across runs and machines.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUILD = new URL('../../build/', import.meta.url);
const FILES = ['core.wasm', 'core.debug.wasm', 'interp.wasm', 'interp.debug.wasm', 'diag.wasm', 'diag.debug.wasm'];

export async function benchBuilds(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const out: Record<string, { bytes: number; gzip: number }> = {};
  for (const f of FILES) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(new URL(f, BUILD));
    } catch {
      continue;
    }
    out[f] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    opts.log(`build ${f}: ${out[f].bytes} bytes, ${out[f].gzip} gzip`);
  }
  return out;
}
