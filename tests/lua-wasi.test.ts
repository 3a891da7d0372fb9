// The WASI shim (vms/wasi/wasi.ts) under lua.wasm on one thread, in this
// process: what the differential suite cannot see because the command gives
// Lua the whole file system — a preopen as a sandbox, paths that try to leave
// it, output sinks, arguments, environment, exit statuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureLuaWasm, runLuaHere } from './lib/lua-run.js';
import { Errno, Wasi, type WasiOptions } from '../vms/wasi/wasi.js';

// The shim's path calls on their own, as a guest's libc makes them: an empty path (length 0) is ENOENT in each,
// before any file system is touched — with node:fs under a preopened root, and with no file system (a page).
const PATH_CALLS = ['path_open', 'path_filestat_get', 'path_unlink_file', 'path_remove_directory', 'path_rename from', 'path_rename to'];
function callWithPath(wasi: Wasi, call: string, len: number): number {
  const i = wasi.imports as unknown as Record<string, (...a: number[]) => number>;
  const P = 64; // the path's bytes; out-pointers above it
  const open = i.path_open as unknown as (...a: (number | bigint)[]) => number;
  switch (call) {
    case 'path_open': return open(3, 0, P, len, 0, (1n << 1n) | (1n << 6n), 0n, 0, 1024);
    case 'path_filestat_get': return i.path_filestat_get(3, 0, P, len, 1024);
    case 'path_unlink_file': return i.path_unlink_file(3, P, len);
    case 'path_remove_directory': return i.path_remove_directory(3, P, len);
    case 'path_rename from': return i.path_rename(3, P, len, 3, P + 32, 4);
    default: return i.path_rename(3, P + 32, 4, 3, P, len);
  }
}
function shimOver(opts: Partial<WasiOptions>): Wasi {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const bytes = new Uint8Array(memory.buffer);
  bytes.set(new TextEncoder().encode('sub'), 64);
  bytes.set(new TextEncoder().encode('gone'), 96);
  return new Wasi({ args: [], stdout() {}, stderr() {}, ...opts }).bind(memory);
}

test('WASI shim: an empty path is ENOENT in every path call, and nothing is touched', () => {
  const dir = sandbox();
  try {
    const wasi = shimOver({ preopens: { '/': dir }, fs });
    for (const call of PATH_CALLS) assert.is(callWithPath(wasi, call, 0), Errno.NOENT, call);
    assert.equal(fs.readdirSync(dir), ['sub']);
    assert.equal(fs.readdirSync(path.join(dir, 'sub')), ['in.txt']);
    // the same calls with the path "sub" do reach the file system
    assert.is(callWithPath(wasi, 'path_filestat_get', 3), Errno.SUCCESS);
    assert.is(callWithPath(wasi, 'path_remove_directory', 3), Errno.NOTEMPTY);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WASI shim without a file system (a page): an empty path is ENOENT, any other ENOSYS', () => {
  const wasi = shimOver({ preopens: { '/': '/' } });
  for (const call of PATH_CALLS) {
    assert.is(callWithPath(wasi, call, 0), Errno.NOENT, call);
    assert.is(callWithPath(wasi, call, 3), Errno.NOSYS, call);
  }
});

test('WASI shim: fd_write gives its iovecs to the sink as one write, as writev does', () => {
  const writes: string[] = [];
  const mem = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(mem.buffer).set(new TextEncoder().encode('sub'), 64);
  new Uint8Array(mem.buffer).set(new TextEncoder().encode('gone'), 96);
  const wasi = new Wasi({ args: [], stdout: (b) => writes.push(new TextDecoder().decode(b)), stderr() {} }).bind(mem);
  const i = wasi.imports as unknown as Record<string, (...a: number[]) => number>;
  // iovecs at 200: "sub" (64, 3), an empty one, "gone" (96, 4); the count goes to 300
  const memory = new DataView(mem.buffer);
  [[64, 3], [80, 0], [96, 4]].forEach(([p, l], k) => { memory.setUint32(200 + 8 * k, p, true); memory.setUint32(204 + 8 * k, l, true); });
  assert.is(i.fd_write(1, 200, 3, 300), Errno.SUCCESS);
  assert.equal(writes, ['subgone']);
  assert.is(memory.getUint32(300, true), 7);
  // only empty iovecs: nothing reaches the sink, and 0 bytes are written
  assert.is(i.fd_write(1, 208, 1, 300), Errno.SUCCESS);
  assert.equal(writes, ['subgone']);
  assert.is(memory.getUint32(300, true), 0);
});

const built = ensureLuaWasm();
function sandbox(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lua-wasi-'));
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'in.txt'), 'inside\n');
  return dir;
}

if (!built) {
  test('WASI shim (skipped: clang-19 missing outside CI)', () => {});
} else {
  test('stdout, stderr, arguments, environment and the exit status', async () => {
    const r = await runLuaHere(['-e', 'io.write(os.getenv("GREETING"), " ", #arg, "\\n") io.stderr:write("err\\n") os.exit(3)', 'a'],
      { env: { GREETING: 'hello' } });
    assert.equal(r, { status: 3, stdout: 'hello 0\n', stderr: 'err\n' });
  });

  test('stdin is read through fd_read', async () => {
    const r = await runLuaHere(['-'], { stdin: 'print(io.read("n") + 1)\n' });
    assert.equal(r, { status: 1, stdout: '', stderr: r.stderr });
    const s = await runLuaHere(['-e', 'print(io.read("l"), io.read("l"), io.read("l"))'], { stdin: 'one\ntwo\n' });
    assert.is(s.stdout, 'one\ttwo\tnil\n');
  });

  test('a preopened directory is the root: files inside it work, paths cannot leave it', async () => {
    const dir = sandbox();
    try {
      const r = await runLuaHere(['-e', `
        print(io.open("/sub/in.txt"):read("l"))
        local f = assert(io.open("/sub/new.txt", "w")) f:write("written") f:close()
        print(os.rename("/sub/new.txt", "/moved.txt"), io.open("/moved.txt"):read("a"))
        print(io.open("/../outside.txt", "w"))
        print(io.open("/sub/../../outside.txt", "w"))
        print(io.open("/etc/passwd"))
        print(os.remove("/moved.txt")) print(os.remove("/sub")) print(os.remove("/sub/in.txt"), os.remove("/sub"))`], { root: dir });
      assert.is(r.stderr, '');
      assert.is(r.stdout, [
        'inside',
        'true\twritten',
        'nil\t/../outside.txt: Capabilities insufficient\t76',
        'nil\t/sub/../../outside.txt: Capabilities insufficient\t76',
        'nil\t/etc/passwd: No such file or directory\t44',
        'true',
        'nil\t/sub: Directory not empty\t55',
        'true\ttrue',
        '',
      ].join('\n'));
      assert.equal(fs.readdirSync(dir), []);
      assert.not.ok(fs.existsSync(path.join(dir, '..', 'outside.txt')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without a file system, opening a file fails cleanly', async () => {
    const r = await runLuaHere(['-e', 'print(io.open("x.txt", "w")) print(pcall(dofile, "y.lua"))']);
    assert.is(r.status, 0);
    assert.match(r.stdout, /^nil\tx\.txt: [^\n]+\n/);
    assert.match(r.stdout, /false\tcannot open y\.lua/);
  });

  test('an empty path fails with ENOENT in every call that takes one, and the directory is left alone', async () => {
    const dir = sandbox();
    try {
      const r = await runLuaHere(['-e', `
        print(io.open("")) print(io.open("", "w")) print(os.remove("")) print(os.rename("", "/moved"))
        print(os.rename("/sub/in.txt", "")) print(io.open("/sub/in.txt"):read("l"))`], { root: dir });
      assert.is(r.stderr, '');
      assert.is(r.stdout, [
        'nil\t: No such file or directory\t44',
        'nil\t: No such file or directory\t44',
        'nil\t: No such file or directory\t44',
        'nil\tNo such file or directory\t44',
        'nil\tNo such file or directory\t44',
        'inside',
        '',
      ].join('\n'));
      assert.equal(fs.readdirSync(dir), ['sub']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('clocks: os.time is the wall clock, os.clock moves, os.date formats UTC', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await runLuaHere(['-e', 'local t0 = os.clock() local x = 0 for i = 1, 2e6 do x = x + i end print(os.time(), os.clock() > t0, os.date("%H:%M", 3600))']);
    const [t, moved, date] = r.stdout.trim().split('\t');
    assert.ok(Number(t) >= before && Number(t) <= Math.floor(Date.now() / 1000), t);
    assert.is(moved, 'true');
    assert.is(date, '01:00');
  });
}

test.run();
