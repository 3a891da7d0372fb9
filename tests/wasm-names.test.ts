// host/wasm-names.ts: a function's index from a module's name section, read
// from bytes, as the commands use it to name their VM's loop to V8 before any
// compile (host/node/engine.ts); and every VM build keeps that name.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { functionIndex } from '../host/wasm-names.js';
import { LUA_LOOP } from '../vms/lua/host/node-build.js';
import { PYTHON_LOOP } from '../vms/python/host/node-build.js';
import { NAMED } from './lib/named-module.js';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build');

test('a function\'s index counts the imports first, as the name section and V8 do', () => {
  assert.is(functionIndex(NAMED, 'imported'), 0);
  assert.is(functionIndex(NAMED, 'first'), 1);
  assert.is(functionIndex(NAMED, 'second'), 2);
  assert.is(functionIndex(NAMED, 'third'), undefined);
  assert.is(functionIndex(NAMED, ''), undefined);
  assert.is(functionIndex(NAMED, 'secon'), undefined);
});

test('a module without a name section has no names; bytes that are not a module, or are cut short, throw', () => {
  // the same module cut before its name section: the custom section starts at byte 0x36
  assert.is(functionIndex(NAMED.subarray(0, 0x36), 'first'), undefined);
  assert.throws(() => functionIndex(new TextEncoder().encode('not wasm'), 'first'), /not a WebAssembly module/);
  assert.throws(() => functionIndex(new Uint8Array(0), 'first'), /truncated/);
  // random cuts and single-byte corruptions: an answer from the sections read, or an Error, never a hang
  for (let i = 0; i < 500; i++) {
    const bytes = NAMED.slice(0, 8 + Math.floor(Math.random() * (NAMED.length - 8)));
    if (i % 2) bytes[8 + Math.floor(Math.random() * (bytes.length - 8))] = Math.floor(Math.random() * 256);
    try {
      const r = functionIndex(bytes, 'second');
      assert.ok(r === undefined || Number.isInteger(r), String(r));
    } catch (e) {
      assert.instance(e, Error);
    }
  }
});

// Each VM build, default and fork-anywhere, carries its loop's name: without it the command falls back to compiling
// every function by TurboFan at its first call, the slow start-up.
for (const [file, loop] of [['lua.wasm', LUA_LOOP], ['lua-fork-anywhere.wasm', LUA_LOOP], ['python.wasm', PYTHON_LOOP],
  ['python-fork-anywhere.wasm', PYTHON_LOOP]] as const) {
  const wasm = path.join(BUILD, file);
  test(`build/${file} names its loop ${loop}${fs.existsSync(wasm) ? '' : ' (skipped: not built)'}`, () => {
    if (!fs.existsSync(wasm)) return;
    const bytes = fs.readFileSync(wasm);
    const index = functionIndex(bytes, loop);
    assert.ok(index !== undefined, `${file} has no name ${loop}`);
    const m = new WebAssembly.Module(bytes);
    const imported = WebAssembly.Module.imports(m).filter((i) => i.kind === 'function').length;
    assert.ok(index >= imported, `${loop} (${index}) is a function of the module, not one of its ${imported} imports`);
  });
}

test.run();
