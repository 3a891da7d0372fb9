// The program's instance of a pooled worker, kept for the worker's next
// thread. A worker serves one runtime (one process) and runs its threads one
// after another, each on the worker's one core instance (host/worker.ts
// WorkerKeep): the instance the first thread made serves the next ones, placed
// on each new thread's stack and TLS area, its imports pointed at the new
// thread's WASI and imports. A Wasm instance lives in V8's old generation from
// birth: one per thread start filled it within a few hundred starts, and the
// major collections (10 to 20 ms each) landed in starts. The instance holds
// nothing of a thread but its stack pointer and TLS base, which placing sets;
// the core's exports and the memory stay direct imports.
import type { CoreExports } from '../../../host/core.js';
import type { Wasi } from '../../wasi/wasi.js';
import { placePosix, posixImportObject, type Placement, type PosixExports, type PosixImports } from './process.js';

type Imports = Record<string, Record<string, unknown>>;

export class PosixInstanceKeeper {
  #kept?: { core: CoreExports; exports: PosixExports };
  #current: Imports = {};

  async instantiate(program: WebAssembly.Module, core: CoreExports, memory: WebAssembly.Memory, wasi: Wasi,
    imports: PosixImports, placement: Placement): Promise<PosixExports> {
    this.#current = posixImportObject(core, memory, wasi, imports);
    if (this.#kept?.core !== core) {
      const instance = await WebAssembly.instantiate(program, routed(this.#current, () => this.#current) as WebAssembly.Imports);
      this.#kept = { core, exports: instance.exports as unknown as PosixExports };
    }
    return placePosix(this.#kept.exports, placement);
  }
}

// Imports that call the current thread's: every function but the core's (the same instance, kept Wasm-to-Wasm).
function routed(imports: Imports, current: () => Imports): Imports {
  const out: Imports = {};
  for (const [mod, fields] of Object.entries(imports)) {
    if (mod === 'core') {
      out[mod] = fields;
      continue;
    }
    out[mod] = {};
    for (const [name, v] of Object.entries(fields)) {
      out[mod][name] = typeof v === 'function' ? (...a: unknown[]) => (current()[mod][name] as (...a: unknown[]) => unknown)(...a) : v;
    }
  }
  return out;
}
