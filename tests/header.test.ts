// include/wasm_threads_core.h agrees with the module it declares: every
// declared import names a core.wasm export (or one the shared contracts add),
// every stable export is declared, and its constants equal host/layout.ts and
// host/errors.ts wherever both name the same thing.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import * as L from '../host/layout.js';
import { ERRNO } from '../host/errors.js';

const header = readFileSync(`${ROOT}include/wasm_threads_core.h`, 'utf8');
const exportsOf = (file: string): string[] =>
  WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(`${ROOT}build/${file}`))).map((e) => e.name);

// exports the shared contracts add on other lines of work (robust locks, non-blocking start)
const CONTRACT_EXPORTS = new Set(['lock_consistent', 'start_try']);
// not part of the stable ABI: the reference VM and the diagnostics
const NOT_ABI = /^(diag_|interp_|memory$)/;

test('every declaration imports an export of core.wasm under its own name, as wtc_<name>', () => {
  const exported = new Set(exportsOf('core.wasm'));
  const decls = [...header.matchAll(/^(int32_t|int64_t) wtc_(\w+)\(([^)]*)\) __attribute__\(\(import_module\("core"\), import_name\("(\w+)"\)\)\);$/gm)];
  assert.ok(decls.length > 30, `${decls.length} declarations`);
  for (const [, ret, name, , importName] of decls) {
    assert.is(importName, name, `wtc_${name} imports ${importName}`);
    assert.ok(exported.has(name) || CONTRACT_EXPORTS.has(name), `${name} is exported by core.wasm`);
    assert.is(ret, name === 'cache_read' ? 'int64_t' : 'int32_t', `${name} result type`);
  }
  const declared = new Set(decls.map((d) => d[2]));
  for (const name of exported) if (!NOT_ABI.test(name)) assert.ok(declared.has(name), `${name} declared`);
});

test('constants equal the host\'s mirror of the layout and the error codes', () => {
  const defines = new Map<string, number>();
  for (const [, name, value] of header.matchAll(/^#define WTC_(\w+) \(?(-?(?:0x[0-9a-f]+|\d+))u?\)?(?: \/\*.*\*\/)?$/gm)) {
    defines.set(name, Number(value));
  }
  let compared = 0;
  for (const [name, value] of Object.entries(L)) {
    if (typeof value !== 'number' || !defines.has(name)) continue;
    assert.is(defines.get(name)! >>> 0, value >>> 0, `WTC_${name}`);
    compared++;
  }
  for (const [name, value] of Object.entries(ERRNO)) {
    if (!defines.has(name)) continue;
    assert.is(defines.get(name), value, `WTC_${name}`);
    compared++;
  }
  assert.ok(compared > 40, `${compared} constants compared`);
  for (const name of ['LAYOUT_END', 'SLOTS', 'SLOT_SIZE', 'ST_ATTACHED', 'STOP_BIT', 'GEN_MASK', 'E_ARG']) {
    assert.ok(defines.has(name), `WTC_${name} defined`);
  }
});

test.run();
