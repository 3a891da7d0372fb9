// Bench section "embed": what the core costs a VM compiled from C that calls
// it across the module boundary (examples/c-embedder, both links), next to
// the same operations from AssemblyScript inside the core's own module and
// from JS, all in one run on one thread. Also the shipped modules' sizes.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ensureMemory, instantiateEmbedder, planEmbed, type EmbedLink } from '../host/embed-link.js';
import { median, round } from './stats-util.js';

const BUILD = fileURLToPath(new URL('../../build/', import.meta.url));
const EMBED_GLOBAL_BASE = 0x20000; // scripts/build-c.sh
const REPS = 7;

type Fn = (...a: number[]) => number;

function sizes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of ['core.wasm', 'core.wasi.wasm', 'interp.wasm', 'c-embedder.wasm']) {
    if (!existsSync(BUILD + f)) continue;
    const bytes = readFileSync(BUILD + f);
    const key = f.replace(/\.wasm$/, '').replace(/[.-]/g, '_');
    out[`${key}_bytes`] = bytes.length;
    out[`${key}_gzip_bytes`] = gzipSync(bytes, { level: 9 }).length;
  }
  return out;
}

/** The AssemblyScript loops: in core.wasm while it carries diagnostics, else in build/diag.wasm. */
function asLoops(core: Record<string, Fn>, memory: WebAssembly.Memory): Record<string, Fn> | undefined {
  if (typeof core.diag_poll_ns === 'function') return core;
  if (!existsSync(BUILD + 'diag.wasm')) return undefined;
  const mod = new WebAssembly.Module(readFileSync(BUILD + 'diag.wasm'));
  return new WebAssembly.Instance(mod, { env: { memory, now_ms: () => performance.now() }, core } as WebAssembly.Imports)
    .exports as Record<string, Fn>;
}

export async function benchEmbed(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { sizes: sizes() };
  const files: Record<EmbedLink, string> = { fixed: 'c-embedder.wasm', pie: 'c-embedder.pie.wasm' };
  if (!existsSync(BUILD + files.fixed) || !existsSync(BUILD + files.pie)) {
    opts.log('embed: the C embedder is not built (scripts/build-c.sh needs clang); sizes only');
    return { ...out, skipped: 'c-embedder not built' };
  }
  const iters = opts.quick ? 100_000 : 5_000_000;
  const coreModule = new WebAssembly.Module(readFileSync(BUILD + 'core.wasm'));
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4096, shared: true });
  const core = new WebAssembly.Instance(coreModule, { env: { memory, now_ms: () => performance.now() } }).exports as
    Record<string, Fn>;
  if (core.init(4) < 0) throw new Error('init failed');
  const h = core.register(1);
  if (h < 0 || core.attach(h) < 0) throw new Error('register/attach failed');

  const rows: Record<string, number>[] = [];
  for (const link of ['fixed', 'pie'] as const) {
    const cModule = new WebAssembly.Module(readFileSync(BUILD + files[link]));
    let heapBase: number | undefined;
    if (link === 'fixed') {
      ensureMemory(memory, EMBED_GLOBAL_BASE + 65536);
      const probe = new WebAssembly.Instance(cModule, { env: { memory, now_ms: () => 0 }, core } as WebAssembly.Imports);
      heapBase = (probe.exports.__heap_base as WebAssembly.Global).value as number;
    }
    const plan = planEmbed(cModule, link, core.heap_base(), 1, { globalBase: EMBED_GLOBAL_BASE, heapBase });
    ensureMemory(memory, plan.end);
    const c = instantiateEmbedder(cModule, core, memory, plan, 0).exports as Record<string, Fn>;
    const poll: number[] = [];
    const pollFast: number[] = [];
    const ad: number[] = [];
    for (let r = 0; r < REPS; r++) {
      poll.push(c.embed_bench_poll(h, iters));
      pollFast.push(c.embed_bench_poll_fast(h, iters));
      ad.push(c.embed_bench_attach_detach(h, iters));
    }
    if ([...poll, ...pollFast, ...ad].some((x) => x < 0)) throw new Error(`${link}: a benchmark loop returned an error`);
    rows.push({
      [`c_${link}_poll_ns`]: round(median(poll), 3),
      [`c_${link}_poll_fast_ns`]: round(median(pollFast), 3),
      [`c_${link}_attach_detach_ns`]: round(median(ad), 3),
    });
  }
  Object.assign(out, ...rows);

  const as = asLoops(core, memory);
  if (as) {
    const poll: number[] = [];
    const ad: number[] = [];
    for (let r = 0; r < REPS; r++) {
      poll.push(as.diag_poll_ns(h, iters));
      ad.push(as.diag_attach_detach_ns(h, iters));
    }
    out.as_poll_ns = round(median(poll), 3);
    out.as_attach_detach_ns = round(median(ad), 3);
  }
  const js: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) core.poll(h);
    js.push(((performance.now() - t0) * 1e6) / iters);
  }
  out.js_poll_ns = round(median(js), 3);
  core.detach(h);
  core.unregister(h);
  opts.log(`embed: poll from C ${out.c_fixed_poll_ns} ns (inline fast path ${out.c_fixed_poll_fast_ns} ns), ` +
    `from AS ${out.as_poll_ns ?? '-'} ns, from JS ${out.js_poll_ns} ns; attach+detach from C ${out.c_fixed_attach_detach_ns} ns, ` +
    `from AS ${out.as_attach_detach_ns ?? '-'} ns`);
  return out;
}
