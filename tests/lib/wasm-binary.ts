// Just enough of the Wasm binary format to read a module's signatures:
// V8 does not expose export/import types (type reflection is off), and the
// conformance test must compare them with docs/ABI.md.
const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

export interface FuncSig { params: string[]; results: string[] }
export interface MemoryLimits { min: number; max: number | undefined; shared: boolean }
export interface ModuleSignatures {
  exports: Map<string, FuncSig>;
  imports: Map<string, FuncSig | MemoryLimits>;
}

export function readSignatures(bytes: Uint8Array): ModuleSignatures {
  let p = 8; // magic + version
  const u = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return r;
    }
  };
  const name = (): string => {
    const n = u();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const limits = (): MemoryLimits => {
    const flags = bytes[p++];
    const min = u();
    const max = flags & 1 ? u() : undefined;
    return { min, max, shared: (flags & 2) !== 0 };
  };
  const types: FuncSig[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const imports = new Map<string, FuncSig | MemoryLimits>();
  const exportIdx = new Map<string, number>();
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u();
    const end = p + size;
    if (id === 1) {
      for (let n = u(); n > 0; n--) {
        p++; // 0x60
        const params = Array.from({ length: u() }, () => VALTYPES[bytes[p++]]);
        const results = Array.from({ length: u() }, () => VALTYPES[bytes[p++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u(); n > 0; n--) {
        const key = `${name()}.${name()}`;
        const kind = bytes[p++];
        if (kind === 0) {
          const t = u();
          funcTypes.push(t);
          imports.set(key, types[t]);
        } else if (kind === 2) imports.set(key, limits());
        else throw new Error(`import ${key}: kind ${kind} not handled`);
      }
    } else if (id === 3) {
      for (let n = u(); n > 0; n--) funcTypes.push(u());
    } else if (id === 7) {
      for (let n = u(); n > 0; n--) {
        const key = name();
        const kind = bytes[p++];
        const idx = u();
        if (kind === 0) exportIdx.set(key, idx);
      }
    }
    p = end;
  }
  const exports = new Map<string, FuncSig>();
  for (const [key, idx] of exportIdx) exports.set(key, types[funcTypes[idx]]);
  return { exports, imports };
}

/**
 * The `module.name` rows of a doc's import table, the one between `<!-- NAME -->` and `<!-- /NAME -->` (docs/LUA.md
 * `lua-imports`, docs/PYTHON.md `python-imports`): what a test holds a module's imports to.
 */
export function documentedImports(docText: string, marker: string, docName: string): string[] {
  const table = new RegExp(`<!-- ${marker} -->([\\s\\S]*?)<!-- /${marker} -->`).exec(docText);
  if (!table) throw new Error(`${docName} has no <!-- ${marker} --> table`);
  return [...table[1].matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}
