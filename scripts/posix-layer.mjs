#!/usr/bin/env node
// The pthread layer's build recipe (docs/EMBEDDING.md, "POSIX threads"), for
// every C VM built on the core: it builds once, and returns what a VM's build
// adds to its own compile and link.
//
//   import { posixLayer } from './posix-layer.mjs';
//   const p = await posixLayer({ log });
//   clang ... ${p.cflags} -c vm.c;  wasm-ld ... ${p.ldflags} vm.o ${p.objects} ${p.libs}
//
// The libc is Debian's wasi-libc rebuilt from its source package with
// -matomics -mbulk-memory and nothing else changed: its errno is then a real
// _Thread_local (one per thread), which no wrapper around the prebuilt
// libc.a can give. Its own thread switch (THREAD_MODEL=posix) does not build
// in this 2022 version (preopens.c, chdir.c and musl's arch headers #error
// "multiple threads not supported"), so malloc and stdio stay lock-free inside
// libc and are locked from outside: the link wraps them (--wrap, WRAPPED
// below) with the layer's locks (vms/posix/src/libc.c).
//
// `node scripts/posix-layer.mjs` builds the libc and the layer;
// `node scripts/posix-layer.mjs -o out.wasm a.c b.c` also links a program (the
// tests' C programs) with the layer's own entry, wtp_command.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianSource } from './debian-source.mjs';
import { answerHelp, envOptions } from './build-options.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'build');
const LIBC_DIR = path.join(BUILD, 'posix-libc');
const OBJ = path.join(BUILD, 'posix-obj');
const LAYER = path.join(ROOT, 'vms/posix');

const OPTIONS = {
  usage: 'node scripts/posix-layer.mjs [-o OUT.wasm SOURCE.c…]',
  args: { '-o OUT.wasm SOURCE.c…': 'also link a program from C sources with the layer (its entry: wtp_command)' },
  env: {
    POSIX_CC: { default: 'clang-19', doc: 'the C compiler' },
    POSIX_LD: { default: 'wasm-ld-19', doc: 'the linker' },
    POSIX_AR: { default: 'llvm-ar', doc: 'the archiver' },
    POSIX_NM: { default: 'llvm-nm', doc: 'the symbol lister' },
    NEED_POSIX: { default: '', doc: 'set: a missing tool fails the build (else it is skipped, with status 0; linking a program always fails)' },
  },
};
const opt = envOptions(OPTIONS.env);
export const CC = opt.POSIX_CC;
export const LD = opt.POSIX_LD;
const AR = opt.POSIX_AR;
const NM = opt.POSIX_NM;
export const CLANG_RT = '/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a';

/** The flags wasi-libc is rebuilt with: Debian's (-O2, no stack protector) plus the two features threads need. */
const LIBC_CFLAGS = '-O2 -fno-stack-protector -matomics -mbulk-memory';

/** The core's static data ends below this (docs/EMBEDDING.md). */
export const GLOBAL_BASE = 0x20000;
/** The core's memory import is (memory 4 4096 shared): the same maximum links with every memory the core takes. */
export const MAX_MEMORY = 4096 * 65536;
/** vms/posix/host/process.ts POSIX_MEMORY_INITIAL_PAGES. */
export const INITIAL_MEMORY = 64 * 65536;

/** libc entry points called through the layer (its locks: vms/posix/src/libc.c). */
export const WRAPPED = [
  'malloc', 'free', 'calloc', 'realloc', 'posix_memalign', 'aligned_alloc', 'malloc_usable_size',
  '__ofl_lock', '__ofl_unlock',
  'fputc', 'putc', 'fputs', 'fwrite', 'vfprintf', 'vfscanf', 'fgetc', 'getc', 'fgets', 'fread', 'ungetc', 'fseek',
  'fseeko', 'ftell', 'ftello', 'fgetpos', 'fsetpos', 'setvbuf', 'feof', 'ferror', 'getline', 'getdelim', 'putchar',
  'puts', 'vprintf', 'vscanf', 'clearerr', 'rewind', 'perror', 'getchar', 'printf', 'fprintf', 'scanf', 'fscanf',
  'fflush', 'fclose', 'freopen',
  // the text of a failed fork() (vms/posix/src/fork.c)
  'strerror',
];

/** The layer's sources; command.c (wtp_command) only for programs without an entry of their own. */
const SOURCES = ['wait.c', 'mutex.c', 'cond.c', 'rwlock.c', 'key.c', 'once.c', 'sem.c', 'thread.c', 'libc.c', 'fork.c', 'proc.c', 'sleep.c', 'stop.c', 'pipe.c', 'spawn.c'];

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', opts.quiet ? 'ignore' : 'inherit', 'inherit'], cwd: opts.cwd });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(-3).join(' ')}: exit ${code}`))));
  });
}

async function parallel(jobs, width) {
  const queue = [...jobs];
  await Promise.all(Array.from({ length: width }, async () => { while (queue.length) await queue.shift()(); }));
}

const width = () => Math.max(1, Math.min(os.availableParallelism?.() ?? 2, 2));

/**
 * wasi-libc from Debian's source, rebuilt with LIBC_CFLAGS into its own sysroot (build/posix-libc/sysroot); done
 * once, again when the flags or the source version change.
 */
export async function posixLibc({ log = () => {} } = {}) {
  const sysroot = path.join(LIBC_DIR, 'sysroot');
  const stamp = path.join(LIBC_DIR, 'stamp');
  const { ver, src } = debianSource({
    pkg: 'wasi-libc', cache: path.join(LIBC_DIR, 'src'), log,
    ready: (dir) => fs.existsSync(path.join(dir, 'Makefile')),
  });
  const want = `${ver}\n${CC}\n${LIBC_CFLAGS}\n`;
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && fs.existsSync(path.join(sysroot, 'lib/wasm32-wasi/libc.a'))) return sysroot;
  log(`building wasi-libc ${ver} with ${LIBC_CFLAGS} (a few minutes)`);
  fs.rmSync(sysroot, { recursive: true, force: true });
  fs.rmSync(path.join(src, 'build'), { recursive: true, force: true });
  // The Makefile's own check of the installed symbols compares with clang 14's lists: only libc and crt1 are built.
  await run('nice', ['-n', '10', 'make', `-j${width()}`, `CC=${CC}`, `AR=${AR}`, `NM=${NM}`, `EXTRA_CFLAGS=${LIBC_CFLAGS}`,
    `SYSROOT=${sysroot}`, 'libc', 'startup_files'], { cwd: src, quiet: true });
  fs.writeFileSync(stamp, want);
  return sysroot;
}

/** The compile flags of any C file that runs on threads over the layer (a VM's own, the layer's). */
export function compileFlags(sysroot) {
  return [
    '--target=wasm32-wasi', `--sysroot=${sysroot}`, '-O2',
    '-matomics', '-mbulk-memory', '-mmutable-globals', '-ftls-model=local-exec',
    // <pthread.h>, and <semaphore.h> wrapping libc's (include_next): before the sysroot's headers.
    '-isystem', path.join(LAYER, 'include'), `-I${path.join(ROOT, 'include')}`,
    '-D_WASI_EMULATED_SIGNAL', '-D_WASI_EMULATED_PROCESS_CLOCKS',
  ];
}

/** The link flags every module on the layer needs (memory placement, exports the host uses, the wrapped libc calls). */
export function linkFlags() {
  return [
    '--no-entry', '--import-memory', '--shared-memory', `--initial-memory=${INITIAL_MEMORY}`, `--max-memory=${MAX_MEMORY}`,
    `--global-base=${GLOBAL_BASE}`, '-z', 'stack-size=1048576',
    // libclang_rt's builtins are built without atomics: their objects do not declare shared-memory support.
    '--no-check-features',
    '--export=__wasm_init_tls', '--export=__tls_size', '--export=__tls_align', '--export=__tls_base',
    '--export=__stack_pointer', '--export=__heap_base', '--export=__data_end', '--export=__wasm_call_ctors',
    ...WRAPPED.map((s) => `--wrap=${s}`),
  ];
}

/**
 * Builds the libc and the layer; returns what a VM's build adds: `cflags` (with the include dirs), `objects` (the
 * layer's), `ldflags`, `libs` (after the VM's objects), `sysroot`.
 */
export async function posixLayer({ log = () => {}, entry = false } = {}) {
  const sysroot = await posixLibc({ log });
  const cflags = compileFlags(sysroot);
  fs.mkdirSync(OBJ, { recursive: true });
  const sources = [...SOURCES, ...(entry ? ['command.c'] : [])];
  const objects = sources.map((f) => path.join(OBJ, `${f}.o`));
  await parallel(sources.map((f, i) => async () => {
    const c = path.join(LAYER, 'src', f);
    const o = objects[i];
    const newer = (a, b) => fs.statSync(a).mtimeMs > fs.statSync(b).mtimeMs;
    const headers = fs.readdirSync(path.join(LAYER, 'include')).map((h) => path.join(LAYER, 'include', h)).concat(['internal.h', 'spawn_internal.h'].map((h) => path.join(LAYER, 'src', h)));
    if (fs.existsSync(o) && !newer(c, o) && !headers.some((h) => newer(h, o))) return;
    await run(CC, [...cflags, '-Wall', '-Wextra', '-c', c, '-o', o]);
  }), width());
  const lib = path.join(sysroot, 'lib/wasm32-wasi');
  return {
    sysroot, cflags, objects, ldflags: linkFlags(),
    libs: [path.join(lib, 'libc.a'), path.join(lib, 'libwasi-emulated-process-clocks.a'), path.join(lib, 'libwasi-emulated-signal.a'), CLANG_RT],
  };
}

/** Compiles and links a program (C sources with a main) on the layer into `out`. */
export async function linkProgram(sources, out, { log = () => {}, cflags: extra = [] } = {}) {
  const p = await posixLayer({ log, entry: true });
  const obj = path.join(OBJ, 'programs', path.basename(out, '.wasm'));
  fs.mkdirSync(obj, { recursive: true });
  const objs = sources.map((s) => path.join(obj, `${path.basename(s)}.o`));
  await parallel(sources.map((s, i) => () => run(CC, [...p.cflags, '-Wall', '-Wextra', ...extra, '-c', s, '-o', objs[i]])), width());
  // Linked beside and renamed: a process starting meanwhile reads the old module or the new one, never half of one.
  const tmp = `${out}.${process.pid}.tmp`;
  await run(LD, [...p.ldflags, ...objs, ...p.objects, ...p.libs, '-o', tmp]);
  fs.renameSync(tmp, out);
  return out;
}

/** What the layer's build needs and this machine lacks (empty: nothing). */
export function missingTools() {
  const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  return [
    !have(CC) && CC, !have(LD) && LD, !have(AR) && AR, !have('make') && 'make', !have('apt-get') && 'apt-get',
    !have('dpkg-source') && 'dpkg-source (dpkg-dev)', !fs.existsSync(CLANG_RT) && 'libclang-rt-19-dev-wasm32',
  ].filter(Boolean);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (m) => console.log(`posix-layer: ${m}`);
  const args = process.argv.slice(2);
  answerHelp(args, 'npm run build:posix', 'builds the pthread layer and its libc (Debian\'s wasi-libc rebuilt for threads)', OPTIONS);
  // npm run build on a machine without clang-19 goes on without the layer; tests and .ci/run set NEED_POSIX=1.
  const missing = missingTools();
  if (missing.length) {
    if (opt.NEED_POSIX || args.length) {
      console.error(`posix-layer: missing ${missing.join(', ')}`);
      process.exit(1);
    }
    log(`missing ${missing.join(', ')}: the pthread layer is not built`);
    process.exit(0);
  }
  const o = args.indexOf('-o');
  try {
    if (o >= 0) {
      const out = path.resolve(args[o + 1]);
      const sources = args.filter((_, i) => i !== o && i !== o + 1).map((s) => path.resolve(s));
      await linkProgram(sources, out, { log });
      log(`${path.relative(ROOT, out)}`);
    } else {
      const p = await posixLayer({ log });
      log(`libc ${p.sysroot}, ${p.objects.length} objects`);
    }
  } catch (e) {
    console.error(`posix-layer: ${e.message}`);
    process.exit(1);
  }
}
