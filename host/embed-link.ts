// Linking a module compiled from C (or C++, Rust) against the core, one
// instance per thread, as docs/EMBEDDING.md describes: the core first, then the
// embedder with `{ env: { memory, now_ms, ... }, core: coreExports }`, then
// this thread's own stack pointer and TLS block. Platform-neutral.

/**
 * What wasm-ld exports of a C module linked with `--export=__stack_pointer` and the TLS globals: the per-thread
 * state a host sets on each thread's instance (its stack top, its TLS block). Lua's, CPython's and the pthread
 * layer's exports extend it.
 */
export interface CModuleExports {
  __stack_pointer: WebAssembly.Global;
  __tls_base: WebAssembly.Global;
  __tls_size: WebAssembly.Global;
  __heap_base: WebAssembly.Global;
  __wasm_init_tls(block: number): void;
}

/** How the embedder module was linked (scripts/build-c.sh builds both). */
export type EmbedLink = 'fixed' | 'pie';

/** Where the embedder's data and the threads' stacks live in the shared memory. */
export interface EmbedPlan {
  link: EmbedLink;
  /** PIE: the embedder's __memory_base (at or above the core's heap_base()). Fixed: its linked data start. */
  memoryBase: number;
  /** First byte of the per-thread areas; area k is [areasBase + k * areaSize, + areaSize). */
  areasBase: number;
  areaSize: number;
  /** First byte after `threads` areas: free for the host. */
  end: number;
}

const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The PIE module's data size and alignment and its table size from its dylink.0 section. */
function dylinkMemInfo(module: WebAssembly.Module): { size: number; align: number; tableSize: number } {
  const [section] = WebAssembly.Module.customSections(module, 'dylink.0');
  if (!section) throw new Error('not a position-independent module (no dylink.0 section)');
  const bytes = new Uint8Array(section);
  let p = 0;
  const leb = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  while (p < bytes.length) {
    const type = bytes[p++];
    const len = leb();
    const next = p + len;
    if (type === 1) return { size: leb(), align: 2 ** leb(), tableSize: leb() };
    p = next;
  }
  return { size: 0, align: 1, tableSize: 0 };
}

/**
 * Plans the memory for `threads` instances of `module` linked as `link`
 * against a core whose heap_base() is `coreHeapBase`. Fixed links must have
 * been placed above it (`globalBase`); PIE modules are put right at it.
 */
export function planEmbed(
  module: WebAssembly.Module, link: EmbedLink, coreHeapBase: number, threads: number,
  opts: { globalBase?: number; heapBase?: number; areaSize?: number } = {},
): EmbedPlan {
  const areaSize = opts.areaSize ?? 16 * 1024;
  let memoryBase: number;
  let dataEnd: number;
  if (link === 'pie') {
    const info = dylinkMemInfo(module);
    memoryBase = align(coreHeapBase, Math.max(16, info.align));
    dataEnd = memoryBase + info.size;
  } else {
    if (opts.globalBase === undefined || opts.heapBase === undefined) throw new Error('a fixed link needs globalBase and heapBase');
    if (coreHeapBase > opts.globalBase) {
      throw new Error(`the core's static data ends at ${coreHeapBase}, above the embedder's --global-base ${opts.globalBase}`);
    }
    memoryBase = opts.globalBase;
    dataEnd = opts.heapBase;
  }
  const areasBase = align(dataEnd, 16);
  return { link, memoryBase, areasBase, areaSize, end: areasBase + threads * areaSize };
}

/** Grows `memory` (never shrinks) so that [0, end) is inside it. */
export function ensureMemory(memory: WebAssembly.Memory, end: number): void {
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / 65536));
}

/**
 * One thread's instance of the embedder. `area` is this thread's index into
 * the plan's areas: its TLS block sits at the bottom, its stack grows down
 * from the top. No other thread may use the same area while this one lives.
 */
export function instantiateEmbedder(
  module: WebAssembly.Module, core: WebAssembly.Exports | object, memory: WebAssembly.Memory, plan: EmbedPlan,
  area: number, extraEnv: Record<string, unknown> = {},
): WebAssembly.Instance {
  const base = plan.areasBase + area * plan.areaSize;
  const top = base + plan.areaSize;
  if (top > memory.buffer.byteLength) throw new RangeError(`thread area ${area} lies outside the memory`);
  const env: Record<string, unknown> = { memory, now_ms: () => performance.now(), ...extraEnv };
  if (plan.link === 'pie') {
    env.__memory_base = new WebAssembly.Global({ value: 'i32', mutable: false }, plan.memoryBase);
    env.__table_base = new WebAssembly.Global({ value: 'i32', mutable: false }, 0);
    env.__stack_pointer = new WebAssembly.Global({ value: 'i32', mutable: true }, top);
    // Function pointers index this table: one per instance, filled by the
    // module's element segment at __table_base (0), so a pointer stored in the
    // shared memory names the same function in every thread's instance.
    if (WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === '__indirect_function_table')) {
      env.__indirect_function_table = new WebAssembly.Table({ element: 'anyfunc', initial: dylinkMemInfo(module).tableSize });
    }
  }
  const instance = new WebAssembly.Instance(module, { env, core } as WebAssembly.Imports);
  const ex = instance.exports as Record<string, unknown>;
  if (plan.link === 'fixed') (ex.__stack_pointer as WebAssembly.Global).value = top;
  const tlsSize = (ex.__tls_size as WebAssembly.Global | undefined)?.value as number | undefined;
  if (tlsSize !== undefined) {
    const tlsAlign = (ex.__tls_align as WebAssembly.Global).value as number;
    const tls = align(base, Math.max(tlsAlign, 1));
    if (tls + tlsSize > top - 1024) throw new RangeError('TLS block does not fit the thread area');
    (ex.__wasm_init_tls as (p: number) => void)(tls);
  }
  return instance;
}
