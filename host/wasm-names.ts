// A function's index from a module's "name" section, read from its bytes
// without compiling them: the tiering flags that name a function
// (host/node/engine.ts) must be set before V8 compiles the module. The index
// is the module's own function index, imports counted first, as the name
// section and V8's flags both count.

/** The index of the function named `name` in `bytes`' name section, or undefined (no such name, no name section). */
export function functionIndex(bytes: Uint8Array, name: string): number | undefined {
  const r = new Reader(bytes);
  if (r.u32le() !== 0x6d736100 || r.u32le() !== 1) throw new Error('not a WebAssembly module (version 1)');
  const wanted = new TextEncoder().encode(name);
  while (!r.done()) {
    const id = r.byte();
    const end = r.leb() + r.at;
    if (id === 0 && sameBytes(r.bytes(r.leb()), new TextEncoder().encode('name'))) {
      while (r.at < end) {
        const sub = r.byte();
        const subEnd = r.leb() + r.at;
        if (sub === 1) {
          for (let n = r.leb(); n > 0; n--) {
            const index = r.leb();
            if (sameBytes(r.bytes(r.leb()), wanted)) return index;
          }
        }
        r.at = subEnd;
      }
    }
    r.at = end;
  }
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A cursor over a module's bytes; a read past the end is a malformed module, not a wrong answer. */
class Reader {
  at = 0;
  constructor(private readonly b: Uint8Array) {}
  done(): boolean { return this.at >= this.b.length; }
  byte(): number {
    if (this.at >= this.b.length) throw new Error('WebAssembly module truncated');
    return this.b[this.at++];
  }
  u32le(): number { return (this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24)) >>> 0; }
  leb(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const x = this.byte();
      v += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) return v;
    }
    throw new Error('WebAssembly module: LEB128 longer than 5 bytes');
  }
  bytes(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new Error('WebAssembly module truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}
