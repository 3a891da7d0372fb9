// Lua threads under SpiderMonkey (the js102 shell): build/lua.wasm on the
// core, the main thread running lua.c's main and one shell worker
// (evalInWorker) per thread.start (a pthread_create of the pthread layer:
// its `wtp` imports), over one shared memory. The WASI shim is
// the project's own (dist/vms/wasi/wasi.js and pipe.js), evaluated as a script.
// Plain JS for the shell; spawned by tests/lua-spidermonkey.test.ts, which
// reads the output.
//
// usage: js102 tests/spidermonkey/lua-threads.js <repository root> <script.lua>

const ROOT = scriptArgs[0];
const SCRIPT = scriptArgs[1];

// Shared with the workers as source text.
function luaHelpers(root) {
  // The shell has no TextEncoder/TextDecoder: UTF-8 both ways, enough for the WASI shim.
  globalThis.TextEncoder ??= class {
    encode(s) {
      const out = [];
      for (const ch of s) {
        let c = ch.codePointAt(0);
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  };
  globalThis.TextDecoder ??= class {
    decode(b) {
      let s = '';
      for (let i = 0; i < b.length;) {
        const c = b[i++];
        if (c < 0x80) s += String.fromCharCode(c);
        else if (c < 0xe0) s += String.fromCharCode(((c & 31) << 6) | (b[i++] & 63));
        else if (c < 0xf0) s += String.fromCharCode(((c & 15) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63));
        else s += String.fromCodePoint(((c & 7) << 18) | ((b[i++] & 63) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63));
      }
      return s;
    }
  };
  // wasi.js and the one module it imports (pipe.js, which imports nothing), as one script
  const src = ['pipe', 'wasi'].map((f) => os.file.readFile(root + '/dist/vms/wasi/' + f + '.js')).join('\n')
    .replace(/^import .*$/gm, '').replace(/^export /gm, '');
  const { Wasi, WasiExit } = new Function(src + '\n;return { Wasi, WasiExit };')();
  const read = (file) => os.file.readFile(root + '/build/' + file, 'binary');
  const decoder = new TextDecoder();
  const wasiFor = (args) => new Wasi({ args, env: {}, stdout: (b) => putstr(decoder.decode(b)), stderr: (b) => putstr(decoder.decode(b)) });
  function instantiate(memory, args, spawn) {
    const core = new WebAssembly.Instance(new WebAssembly.Module(read('core.wasm')), { env: { memory, now_ms: () => performance.now() } }).exports;
    const wasi = wasiFor(args).bind(memory);
    const lua = new WebAssembly.Instance(new WebAssembly.Module(read('lua.wasm')), {
      env: { memory }, core, wasi_snapshot_preview1: wasi.imports,
      wtp: { spawn, unwind: () => { throw new Error('pthread_exit'); } },
      // no processes in the shell: os.fork fails with ENOSYS (WASI's 52, like lua.wasm's libc; ECHILD 12)
      wtp_fork: { fork: () => -52, fork_here: () => -52, waitpid: () => -12, getpid: () => 1, error: () => 0 },
    }).exports;
    return { core, lua };
  }
  return { instantiate, WasiExit };
}

const { instantiate, WasiExit } = luaHelpers(ROOT);
const memory = new WebAssembly.Memory({ initial: 64, maximum: 4096, shared: true });
const args = ['lua', '-e', os.file.readFile(SCRIPT)]; // no preopens here: the chunk comes as -e
let nextTid = 100;
// pthread_create on this thread: one shell worker per thread (its record's first word is its area).
function spawn(thread) {
  const area = new Uint32Array(memory.buffer, thread, 1)[0];
  setSharedObject(memory);
  evalInWorker(`
    const { instantiate, WasiExit } = (${luaHelpers})(${JSON.stringify(ROOT)});
    const memory = getSharedObject();
    const { core, lua } = instantiate(memory, ${JSON.stringify(args)}, () => -1);
    lua.__stack_pointer.value = lua.wtp_area_stack_top(${area});
    lua.__wasm_init_tls(lua.wtp_area_tls(${area}));
    const h = core.register(${nextTid++});
    core.attach(h);
    try { lua.wtp_thread_entry(${thread}, h); } catch (e) { if (!(e instanceof WasiExit)) throw e; }
    core.detach(h);
    core.unregister(h);
  `);
  return 0;
}
const { core, lua } = instantiate(memory, args, spawn);
lua.__wasm_init_tls(lua.wtp_main_tls());
if (core.init(64) < 0) throw new Error('core init');
const h = core.register(1);
core.attach(h);
lua.wtp_set_self(h);
let status = 0;
try {
  lua.wtp_command();
} catch (e) {
  if (!(e instanceof WasiExit)) throw e;
  status = e.code;
}
print('status ' + status);
