// build/python.wasm as built by scripts/build-python.mjs: CPython on the
// pthread layer. Its imports are exactly the ones docs/PYTHON.md lists (no
// --allow-undefined turned a missing symbol into a silent import), its memory
// import is the one the layer's host creates, it exports what the host places
// threads with, its data lies above the core's, the standard library beside it
// has the generated sysconfigdata, and no CPython source is in the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { PYTHON_EXECUTABLE, PYTHON_WASM, ensurePythonWasm } from './lib/python-run.js';
import { documentedImports, readSignatures, type MemoryLimits } from './lib/wasm-binary.js';
import { POSIX_MEMORY_INITIAL_PAGES, POSIX_MEMORY_MAXIMUM_PAGES } from '../vms/posix/host/process.js';

const built = ensurePythonWasm();

if (!built) {
  test('python.wasm (skipped: clang-19 missing outside CI)', () => {});
} else {
  const bytes = new Uint8Array(fs.readFileSync(PYTHON_WASM));
  const sig = readSignatures(bytes);

  test('the module imports exactly the documented list', () => {
    const documented = documentedImports(fs.readFileSync(path.join(ROOT, 'docs', 'PYTHON.md'), 'utf8'), 'python-imports', 'docs/PYTHON.md');
    assert.equal(new Set(documented).size, documented.length, 'a row appears twice in docs/PYTHON.md');
    assert.equal([...sig.imports.keys()].sort(), [...documented].sort());
  });

  test('the memory import is shared, with the limits the layer\'s host uses', () => {
    const mem = sig.imports.get('env.memory') as MemoryLimits;
    assert.equal(mem, { min: POSIX_MEMORY_INITIAL_PAGES, max: POSIX_MEMORY_MAXIMUM_PAGES, shared: true });
  });

  test('it exports what the layer\'s host places threads with', () => {
    const names = new Set(WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name));
    for (const n of ['__stack_pointer', '__tls_base', '__tls_size', '__tls_align', '__wasm_init_tls', '__heap_base', '__data_end',
      'wtp_command', 'wtp_main_tls', 'wtp_main_tls_size', 'wtp_area_new', 'wtp_area_tls', 'wtp_area_stack_top', 'wtp_area_free',
      'wtp_set_self', 'wtp_thread_entry']) {
      assert.ok(names.has(n), `missing export ${n}`);
    }
    assert.equal(sig.exports.get('wtp_command'), { params: [], results: [] });
  });

  test('its data lies above the core\'s and below its heap, its TLS fits the main block', async () => {
    const memory = new WebAssembly.Memory({ initial: POSIX_MEMORY_INITIAL_PAGES, maximum: POSIX_MEMORY_MAXIMUM_PAGES, shared: true });
    const coreModule = await WebAssembly.compile(fs.readFileSync(path.join(ROOT, 'build', 'core.wasm')));
    const core = (await WebAssembly.instantiate(coreModule, { env: { memory, now_ms: () => 0, abort: () => {} } })).exports as Record<string, () => number>;
    // The exported globals without running anything: every import that is not the memory does nothing.
    const stub = new Proxy({}, { get: () => () => 0 });
    const imports = new Proxy({}, { get: (_t, m) => (m === 'env' ? new Proxy({ memory }, {
      get: (t: Record<string, unknown>, k: string) => t[k] ?? (() => 0) }) : stub) });
    const py = (await WebAssembly.instantiate(await WebAssembly.compile(bytes), imports as WebAssembly.Imports))
      .exports as Record<string, WebAssembly.Global | (() => number)>;
    const g = (n: string) => (py[n] as WebAssembly.Global).value as number;
    assert.ok(core.heap_base() <= 0x20000, `core data ends at ${core.heap_base()}`);
    assert.ok(g('__data_end') > 0x20000 && g('__data_end') <= g('__heap_base'));
    assert.ok(g('__heap_base') <= POSIX_MEMORY_INITIAL_PAGES * 65536, 'the data and linked stack fit the initial memory');
    assert.ok(g('__tls_size') <= (py.wtp_main_tls_size as () => number)());
  });

  test('the standard library has the generated sysconfigdata, and sys.executable is a command', () => {
    const lib = path.join(ROOT, 'build', 'python-lib', 'lib', 'python3.11');
    assert.ok(fs.existsSync(path.join(lib, 'os.py')));
    assert.ok(fs.readdirSync(lib).some((f) => /^_sysconfigdata_.*wasm32-wasi\.py$/.test(f)), 'no _sysconfigdata_*wasm32-wasi.py');
    assert.ok(fs.existsSync(path.join(lib, 'test', 'regrtest.py')), 'the test package is there for -m test');
    fs.accessSync(PYTHON_EXECUTABLE, fs.constants.X_OK);
  });

  test('the source came from Debian\'s python3.11 source package, and none of it is in the repository', () => {
    const cache = path.join(ROOT, 'build', 'python-src');
    const version = fs.readFileSync(path.join(cache, 'current'), 'utf8').trim();
    assert.match(version, /^3\.11\./);
    const src = path.join(cache, `python3.11-${version}`);
    assert.ok(fs.existsSync(path.join(src, 'debian', 'patches', 'series')));
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => /\.(c|h)$/.test(f));
    // A copy is a tracked file with the name and the text of one of CPython's (vms/posix/src/thread.c is not Python/thread.c).
    const cpython = new Map<string, string>();
    for (const dir of ['Python', 'Objects', 'Parser', 'Modules', 'Include']) {
      for (const f of fs.readdirSync(path.join(src, dir)).filter((n) => /\.(c|h)$/.test(n))) cpython.set(f, path.join(src, dir, f));
    }
    const copies = tracked.filter((f) => cpython.has(path.basename(f))
      && fs.readFileSync(path.join(ROOT, f), 'utf8') === fs.readFileSync(cpython.get(path.basename(f))!, 'utf8'));
    assert.equal(copies, []);
  });
}

test.run();
