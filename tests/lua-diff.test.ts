// The differential suite: every program in tests/lua/ and a set of command
// lines run under Debian's native lua5.4 and under the wasm-threads-lua
// command (build/lua.wasm on the core); stdout, stderr and the exit status
// must be byte-identical. Each run gets a fresh working directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LUA_PROGRAMS, ensureLuaWasm, hasNativeLua, runLua, runNativeLua, type LuaRunOptions } from './lib/lua-run.js';

const ready = ensureLuaWasm() && hasNativeLua();
const ENV = { TZ: 'UTC', LUA_DIFF_VAR: 'v' };

interface CaseOptions extends LuaRunOptions {
  /** Applied to both stderrs before they are compared (a difference the case documents). */
  normalize?: (stderr: string) => string;
}

async function same(args: string[], opts: CaseOptions = {}): Promise<void> {
  // Both run at once, each in a fresh working directory of its own (the programs write files with fixed names).
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'lua-diff-')));
  try {
    const o = (cwd: string) => ({ ...opts, cwd, env: { ...ENV, ...(opts.env ?? {}) } });
    const [native, wasm] = await Promise.all([runNativeLua(args, o(dirs[0])), runLua(args, o(dirs[1]))]);
    const what = `lua ${args.join(' ')}`;
    assert.is(wasm.stdout, native.stdout, `${what}: stdout`);
    const norm = opts.normalize ?? ((e: string) => e);
    assert.is(norm(wasm.stderr), norm(native.stderr), `${what}: stderr`);
    assert.is(wasm.status, native.status, `${what}: exit status`);
    for (const d of dirs) assert.equal(fs.readdirSync(d).sort(), [], `${what}: files left in the working directory`);
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

const programs = fs.readdirSync(LUA_PROGRAMS).filter((f) => f.endsWith('.lua')).sort();

if (!ready) {
  test('lua differential suite (skipped: clang-19 or lua5.4 missing outside CI)', () => {});
} else {
  test('there are programs to compare', () => {
    assert.ok(programs.length >= 10, programs.join(' '));
  });
  for (const p of programs) {
    test(`program ${p}`, () => same([path.join(LUA_PROGRAMS, p), '3', 'x']));
  }

  const cases: Array<[string, string[], CaseOptions?]> = [
    ['-v', ['-v']],
    ['-e twice', ['-e', 'print(1 + 1)', '-e', 'print(#arg, arg[0])']],
    ['script from stdin with -', ['-', 'a', 'b'], { stdin: 'print("stdin", ...) print(arg[0], arg[1])' }],
    ['-e then -', ['-e', 'x = 40', '-'], { stdin: 'print(x + 2)' }],
    ['no arguments, stdin not a terminal', [], { stdin: 'print("from stdin")\nos.exit(5)' }],
    ['-l a module on LUA_PATH', ['-l', 'diffmod', '-e', 'print(diffmod.greet("l"), diffmod.name)'],
      { env: { LUA_PATH: `${path.join(LUA_PROGRAMS, 'modules')}/?.lua` } }],
    // package.cpath names the platform's multiarch directory: set it to the same on both.
    ['-l a missing module', ['-l', 'no_such_module_here'], { env: { LUA_CPATH: './?.so' } }],
    ['LUA_INIT', ['-e', 'print(initialized)'], { env: { LUA_INIT: 'initialized = "yes"' } }],
    ['-E ignores LUA_INIT', ['-E', '-e', 'print(initialized)'], { env: { LUA_INIT: 'initialized = "yes"' } }],
    ['error with a traceback', ['-e', 'local function f() error("top level") end f()']],
    ['error object without __tostring', ['-e', 'error({})']],
    ['error object with __tostring', ['-e', 'error(setmetatable({}, { __tostring = function() return "custom" end }))']],
    ['runtime error', ['-e', 'local t = nil; print(t.x)']],
    ['syntax error', ['-e', 'print(']],
    ['missing script', ['no-such-script.lua']],
    ['unknown option', ['-z']],
    ['os.exit(7)', ['-e', 'io.write("unflushed") os.exit(7)']],
    ['os.exit(false)', ['-e', 'os.exit(false)']],
    ['os.exit(true, true)', ['-e', 'os.exit(true, true)']],
    // The chunk runs in a coroutine of its own (the fork library's lwtc_pcallk), whose Lua stack starts empty: it
    // overflows a couple of levels deeper than under lua.c's frames, so only the skipped count may differ.
    ['stack overflow in Lua', ['-e', 'local function r() return 1 + r() end r()'],
      { normalize: (e) => e.replace(/\(skipping \d+ levels\)/, '(skipping N levels)') }],
    ['warnings', ['-W', '-e', 'warn("visible") warn("@off") warn("hidden")']],
    ['arg with options before the script', ['-e', 'y = 1', path.join(LUA_PROGRAMS, 'args.lua'), '0', 'second']],
    // os.setlocale("") reads the environment: a locale both have, one neither has, and one category set apart.
    ...([
      ['LANG=C.UTF-8', { LANG: 'C.UTF-8', LC_ALL: '' }],
      ['LANG=pt_BR.UTF-8 (not installed)', { LANG: 'pt_BR.UTF-8', LC_ALL: '' }],
      ['LC_NUMERIC=xx_YY', { LANG: 'C.UTF-8', LC_ALL: '', LC_NUMERIC: 'xx_YY' }],
      ['LC_ALL=C over LANG', { LANG: 'pt_BR', LC_ALL: 'C' }],
    ] as Array<[string, Record<string, string>]>).map(([name, env]): [string, string[], CaseOptions] =>
      [`locale.lua with ${name}`, [path.join(LUA_PROGRAMS, 'locale.lua')], { env }]),
  ];
  for (const [name, args, opts] of cases) test(`command line: ${name}`, () => same(args, opts));
}

test.run();
