// build/lua.wasm as built by scripts/build-lua.mjs: its imports are exactly
// the ones docs/LUA.md lists (no --allow-undefined turned a missing symbol
// into a silent import), its memory import is the one the loader creates, it
// exports what the loader places threads with, its data lies above the
// core's, and no Lua source is in the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { LUA_WASM, ensureLuaWasm } from './lib/lua-run.js';
import { documentedImports, readSignatures, type MemoryLimits } from './lib/wasm-binary.js';
import { LUA_MEMORY_INITIAL_PAGES, LUA_MEMORY_MAXIMUM_PAGES } from '../vms/lua/host/loader.js';

const built = ensureLuaWasm();

if (!built) {
  test('lua.wasm (skipped: clang-19 missing outside CI)', () => {});
} else {
  const bytes = new Uint8Array(fs.readFileSync(LUA_WASM));
  const sig = readSignatures(bytes);

  test('the module imports exactly the documented list', () => {
    const documented = documentedImports(fs.readFileSync(path.join(ROOT, 'docs', 'LUA.md'), 'utf8'), 'lua-imports', 'docs/LUA.md');
    assert.equal(new Set(documented).size, documented.length, 'a row appears twice in docs/LUA.md');
    assert.equal([...sig.imports.keys()].sort(), [...documented].sort());
  });

  test('no import comes from a lowering or a missing definition', () => {
    for (const name of sig.imports.keys()) {
      assert.not.match(name, /invoke_|emscripten|__c_longjmp|setThrew|saveSetjmp|getTempRet0/, name);
    }
  });

  test('the memory import is shared, with the limits the loader uses', () => {
    const mem = sig.imports.get('env.memory') as MemoryLimits;
    assert.equal(mem, { min: LUA_MEMORY_INITIAL_PAGES, max: LUA_MEMORY_MAXIMUM_PAGES, shared: true });
  });

  test('it exports what the loader places threads with', () => {
    const m = new WebAssembly.Module(bytes);
    const names = new Set(WebAssembly.Module.exports(m).map((e) => e.name));
    for (const n of ['__stack_pointer', '__tls_base', '__tls_size', '__tls_align', '__wasm_init_tls', '__heap_base', '__data_end',
      'wtp_command', 'wtp_main_tls', 'wtp_main_tls_size', 'wtp_area_new', 'wtp_area_tls', 'wtp_area_stack_top', 'wtp_area_free',
      'wtp_set_self', 'wtp_thread_entry', 'wtp_after_fork_child', 'wtp_fork_child', 'lwtc_interrupt', 'wtp_io_begin', 'wtp_io_end']) {
      assert.ok(names.has(n), `missing export ${n}`);
    }
    assert.equal(sig.exports.get('wtp_area_new'), { params: ['i32'], results: ['i32'] });
    assert.equal(sig.exports.get('wtp_command'), { params: [], results: [] });
  });

  test('its data lies above the core\'s and below its heap, its TLS fits the main block', async () => {
    const memory = new WebAssembly.Memory({ initial: LUA_MEMORY_INITIAL_PAGES, maximum: LUA_MEMORY_MAXIMUM_PAGES, shared: true });
    const coreModule = await WebAssembly.compile(fs.readFileSync(path.join(ROOT, 'build', 'core.wasm')));
    const core = (await WebAssembly.instantiate(coreModule, { env: { memory, now_ms: () => 0, abort: () => {} } })).exports as Record<string, () => number>;
    // The module's exported globals without instantiating it: read them through a throwaway instance.
    // Every import module (the documented ones, whatever they are) gets functions that do nothing.
    const stub = new Proxy({}, { get: () => () => 0 });
    const imports = new Proxy({}, { get: (_t, m) => (m === 'env' ? new Proxy({ memory }, {
      get: (t: Record<string, unknown>, k: string) => t[k] ?? (() => 0) }) : stub) });
    const lua = (await WebAssembly.instantiate(await WebAssembly.compile(bytes), imports as WebAssembly.Imports))
      .exports as Record<string, WebAssembly.Global | (() => number)>;
    const g = (n: string) => (lua[n] as WebAssembly.Global).value as number;
    assert.ok(core.heap_base() <= 0x20000, `core data ends at ${core.heap_base()}`);
    assert.ok(g('__data_end') > 0x20000 && g('__data_end') <= g('__heap_base'));
    assert.ok(g('__heap_base') <= LUA_MEMORY_INITIAL_PAGES * 65536, 'the data and linked stack fit the initial memory');
    assert.ok(g('__tls_size') <= (lua.wtp_main_tls_size as () => number)());
  });

  test('the source came from Debian\'s lua5.4 source package, and none of it is in the repository', () => {
    const cache = path.join(ROOT, 'build', 'lua-src');
    const version = fs.readFileSync(path.join(cache, 'current'), 'utf8').trim();
    assert.match(version, /^5\.4\./);
    assert.ok(fs.existsSync(path.join(cache, `lua5.4-${version}`, 'debian', 'patches', 'series')));
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const luaFiles = new Set(fs.readdirSync(path.join(cache, `lua5.4-${version}`, 'src')).filter((f) => /\.(c|h|hpp)$/.test(f)));
    assert.equal(tracked.filter((f) => luaFiles.has(path.basename(f)) && !f.startsWith('node_modules')), []);
  });
}

test.run();
