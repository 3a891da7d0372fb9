#!/usr/bin/env node
// Builds build/lua.wasm: Lua 5.4 from Debian's `lua5.4` source package, linked
// against the core through the pthread layer (scripts/posix-layer.mjs: its
// libc, its objects, its link; docs/LUA.md, docs/EMBEDDING.md "POSIX threads").
//
// The source comes through a private apt configuration (a sources list, lists,
// cache and state directory under build/lua-src/apt): the system's apt setup is
// read (to mirror its Debian suites as deb-src lines) and never written.
// apt checks the Sources index against the archive's signed InRelease; this
// script checks the .dsc against that index and every file against the .dsc,
// then dpkg-source unpacks it with Debian's patches. Nothing of Lua enters the
// repository: the build adds flags, shims (vms/lua/shim), a user header and
// glue (vms/lua/src/*.c, every file compiled and linked).
//
// Exits 0 without building when the toolchain is missing and NEED_LUA is unset
// (npm run build on a machine without clang-19); tests and .ci/run set NEED_LUA=1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianSource } from './debian-source.mjs';
import { asyncifyForFork, WASM_OPT } from './asyncify-fork.mjs';
import * as toolchain from './wasm-toolchain.mjs';
import { have, run } from './wasm-toolchain.mjs';
import { missingTools as missingLayerTools, posixLayer } from './posix-layer.mjs';
import { answerHelp, envOptions } from './build-options.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'build');
const CACHE = path.join(BUILD, 'lua-src');
const OPTIONS = {
  env: {
    // a variant (a benchmark's baseline) names its module; its objects go beside the default's
    LUA_OUT: { default: '', doc: 'the module to write instead of build/lua.wasm (its objects go to build/lua-obj-NAME)' },
    LUA_EXTRA_CFLAGS: { default: '', doc: 'flags added to every compile (space-separated)' },
    LUA_NO_FORK_ANYWHERE: { default: '', doc: 'set: build no fork-anywhere module beside it' },
    LUA_CC: { default: toolchain.CC, doc: 'the C compiler' },
    LUA_LD: { default: toolchain.LD, doc: 'the linker' },
    LUA_REFETCH: { default: '', doc: 'set: fetch the source package again' },
    NEED_LUA: { default: '', doc: 'set: a missing tool fails the build (else it is skipped, with status 0)' },
  },
};
answerHelp(process.argv.slice(2), 'npm run build:lua', 'builds build/lua.wasm (and build/lua-fork-anywhere.wasm) from Debian\'s lua5.4 source package', OPTIONS);
const opt = envOptions(OPTIONS.env);
const OUT = opt.LUA_OUT ? path.resolve(opt.LUA_OUT) : path.join(BUILD, 'lua.wasm');
const EXTRA_CFLAGS = opt.LUA_EXTRA_CFLAGS.split(/\s+/).filter(Boolean);
const OBJ = opt.LUA_OUT ? path.join(BUILD, `lua-obj-${path.basename(OUT, '.wasm')}`) : path.join(BUILD, 'lua-obj');
const PACKAGE = 'lua5.4';
/**
 * The fork-anywhere build beside it (build/lua-fork-anywhere.wasm): the same module through the fork build step
 * (scripts/asyncify-fork.mjs), so that os.fork works under C callbacks too.
 */
const FORK_ANYWHERE = opt.LUA_NO_FORK_ANYWHERE ? undefined : OUT.replace(/\.wasm$/, '-fork-anywhere.wasm');

const CC = opt.LUA_CC;
const LD = opt.LUA_LD;
function log(msg) { console.log(`build-lua: ${msg}`); }
function fail(msg) { console.error(`build-lua: ${msg}`); process.exit(1); }

const missing = [
  !have(CC) && CC, !have(LD) && LD, FORK_ANYWHERE && !fs.existsSync(WASM_OPT) && `${WASM_OPT} (binaryen)`, ...missingLayerTools(),
].filter((m, i, all) => m && all.indexOf(m) === i);
if (missing.length) {
  if (opt.NEED_LUA) fail(`missing ${missing.join(', ')}`);
  log(`missing ${missing.join(', ')}: build/lua.wasm not built`);
  process.exit(0);
}

// ---- the source package, through a private apt configuration (debian-source.mjs) ----

function source() {
  try {
    return debianSource({
      pkg: PACKAGE, cache: CACHE, refetch: !!opt.LUA_REFETCH, log,
      ready: (src) => fs.existsSync(path.join(src, 'src', 'lua.h')),
    });
  } catch (e) {
    fail(e.message);
  }
}

// ---- compile and link ----

async function parallel(jobs, width) {
  const queue = [...jobs];
  await Promise.all(Array.from({ length: width }, async () => { while (queue.length) await queue.shift()(); }));
}

async function build({ ver, src }) {
  const luaSrc = path.join(src, 'src');
  const obj = OBJ;
  fs.mkdirSync(obj, { recursive: true });
  const shim = path.join(ROOT, 'vms/lua/shim');
  const glue = path.join(ROOT, 'vms/lua/src');
  // The layer's libc (errno per thread, malloc and stdio locked), its <pthread.h>, its objects and its entry
  // (wtp_command: constructors, $PWD, main, exit).
  const layer = await posixLayer({ log, entry: true });
  const cflags = [
    ...layer.cflags,
    // setjmp/longjmp lowered to Wasm exceptions (no JS, no malloc per pcall): docs/EMBEDDING.md.
    '-mexception-handling', '-mllvm', '-wasm-enable-sjlj',
    // The shims come before the libc's headers (setjmp.h, popen, mkstemp).
    '-isystem', path.join(shim, 'include'), `-I${glue}`, `-I${luaSrc}`,
    // Lua's POSIX configuration (as Debian's build), minus what WASI lacks (shims) — and the user header
    // (lua_lock, lua_unlock, luai_threadyield) when the threads library provides one.
    '-DLUA_USE_POSIX', ...(fs.existsSync(path.join(glue, 'lwtc_user.h')) ? ['-DLUA_USER_H="lwtc_user.h"'] : []),
    '-Wno-deprecated-declarations',
    ...EXTRA_CFLAGS,
  ];
  // Lua's own files, unedited; lua.c's main is the standalone interpreter that vms/lua/src/main.c calls,
  // and linit.c's luaL_openlibs the standard set that main.c's luaL_openlibs extends.
  // lua.c without LUA_USE_POSIX: its sigaction path has no WASI equivalent (signal() is emulated); it still asks
  // isatty whether stdin is a terminal, as the POSIX build does. Every chunk it runs goes through lwtc_pcallk
  // (main.c: lua_pcallk itself unless the fork library replaces it to run chunks in a forkable coroutine).
  const perFile = {
    'lua.c': ['-Dmain=lua_standalone_main', '-ULUA_USE_POSIX', '-include', 'unistd.h', '-Dlua_stdin_is_tty()=isatty(0)',
      '-Dlua_pcallk=lwtc_pcallk'], 'linit.c': ['-DluaL_openlibs=lwtc_openlibs_standard'] };
  const luaFiles = fs.readdirSync(luaSrc).filter((f) => f.endsWith('.c') && f !== 'luac.c').sort();
  const ours = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.c') || f.endsWith('.S')).sort().map((f) => path.join(dir, f)) : []);
  const units = [
    ...luaFiles.map((f) => ({ file: path.join(luaSrc, f), out: path.join(obj, `lua-${f}.o`), extra: perFile[f] ?? [] })),
    ...[...ours(shim), ...ours(glue)].map((file) => ({
      file, out: path.join(obj, `${path.basename(path.dirname(file))}-${path.basename(file)}.o`), extra: ['-Wall', '-Wextra'],
    })),
  ];
  for (const f of fs.readdirSync(obj)) if (f.endsWith('.o')) fs.rmSync(path.join(obj, f));
  const width = Math.max(1, Math.min(os.availableParallelism?.() ?? 2, 2));
  await parallel(units.map((u) => () => run(CC, [...cflags, ...u.extra, '-c', u.file, '-o', u.out])), width);

  const ldflags = [
    // The layer's: memory placement, the exports its host places threads with, libc's calls under its locks; the
    // linked stack (1 MiB) is the host instance's, every thread's own comes from the layer's areas.
    ...layer.ldflags,
    '--export-dynamic', '--strip-debug',
    // vms/lua/shim/empty-path.c: an empty path stays empty, so the WASI call fails it with ENOENT.
    '--wrap=__wasilibc_find_relpath_alloc',
    // vms/lua/shim/setlocale.c: only the locales this libc has (C, POSIX, C.UTF-8), as glibc reports them.
    '--wrap=setlocale',
    // No --allow-undefined: an undefined symbol is a link error, except functions declared with import
    // attributes (wasi-libc's WASI calls, the core's header); tests/lua-build.test.ts checks the list.
    '--error-limit=0',
  ];
  const libs = [...units.map((u) => u.out), ...layer.objects, ...layer.libs];
  // Linked beside and renamed: a process starting meanwhile reads the old module or the new one, never half of one.
  const tmp = `${OUT}.${process.pid}.tmp`;
  await run(LD, [...ldflags, ...libs, '-o', tmp]);
  if (FORK_ANYWHERE) {
    // os.fork under C callbacks: the functions on a path to the layer's fork_here instrumented; ltry.c's setjmp
    // function is the one pass-through.
    const r = asyncifyForFork({ input: tmp, output: FORK_ANYWHERE, imports: ['wtp_fork.fork_here'], passThrough: ['try_call'] });
    log(`${path.relative(ROOT, FORK_ANYWHERE)} (${r.instrumented.length} of ${r.functions} functions instrumented, ${r.outputBytes} bytes)`);
  }
  fs.renameSync(tmp, OUT);
  const size = fs.statSync(OUT).size;
  log(`${path.relative(ROOT, OUT)} (Lua ${ver}, ${size} bytes)`);
}

await build(source());
