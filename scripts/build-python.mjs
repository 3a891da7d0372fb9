#!/usr/bin/env node
// Builds build/python.wasm: CPython 3.11 from Debian's `python3.11` source
// package, cross-built for wasm32-wasi by CPython's own configure and make,
// then linked against the core over one shared memory (docs/PYTHON.md).
//
// Stages, each its own function so a later one can be added or rerun alone:
//   1. source    the source package (debian-source.mjs: private apt, verified, Debian's patches applied)
//   2. configure CPython's configure for wasm32-wasi, once, for its answers only (build/python-obj/config.cache)
//   3. threads   the same configure on the pthread layer with those answers, CPython's make for the objects only
//                (its own link would not use the shared memory), vms/python/src compiled as CPython's core, the
//                layer's link -> build/python.wasm
//   4. stdlib    build/python-lib/lib/python3.11: Lib/ and the generated sysconfigdata
// A post-link transform reads build/python.wasm and writes its own module; nothing here depends on the
// module's code.
//
// Nothing of CPython enters the repository and no file of it is edited. Exits 0 without building when the
// toolchain is missing and NEED_PYTHON is unset (npm run build on a machine without clang-19).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { debianSource } from './debian-source.mjs';
import { CC, CLANG_RT, LD, WASI_LIB, have, run, sysroot as wasiSysroot } from './wasm-toolchain.mjs';
import { answerHelp, envOptions } from './build-options.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'build');
const CACHE = path.join(BUILD, 'python-src');
const OBJ = path.join(BUILD, 'python-obj');
const OPTIONS = {
  env: {
    PYTHON_OUT: { default: '', doc: 'the module to write instead of build/python.wasm' },
    // the same upstream version as the source: frozen modules and the sysconfigdata come from it
    PYTHON_BUILD_PYTHON: { default: '/usr/bin/python3.11', doc: 'the build Python' },
    PYTHON_JOBS: { default: '2', doc: 'make\'s parallel jobs' },
    PYTHON_FORK: { default: '1', doc: '0: leave the fork build out (it takes a minute or two)' },
    PYTHON_REFETCH: { default: '', doc: 'set: fetch the source package again' },
    NEED_PYTHON: { default: '', doc: 'set: a missing tool fails the build (else it is skipped, with status 0)' },
  },
};
answerHelp(process.argv.slice(2), 'npm run build:python', 'builds build/python.wasm and its standard library from Debian\'s python3.11 source package', OPTIONS);
const opt = envOptions(OPTIONS.env);
const OUT = opt.PYTHON_OUT ? path.resolve(opt.PYTHON_OUT) : path.join(BUILD, 'python.wasm');
const LIB = path.join(BUILD, 'python-lib');
const PACKAGE = 'python3.11';
const BUILD_PYTHON = opt.PYTHON_BUILD_PYTHON;

/**
 * Compile flags beyond configure's: shared-memory code (atomics for the threads and the core's header), and clang ≥
 * 15's int-conversion error demoted (wasi-libc's CLOCK_* are pointers, which timemodule.c passes to
 * PyModule_AddIntMacro; CPython's WASI SDK has clang 14, where it is a warning). The layer's libc has a per-thread
 * errno.
 */
const EXTRA_CFLAGS = ['-matomics', '-mbulk-memory', '-mmutable-globals', '-ftls-model=local-exec', '-Wno-error=int-conversion'];

function log(msg) { console.log(`build-python: ${msg}`); }
function fail(msg) { console.error(`build-python: ${msg}`); process.exit(1); }

const sysroot = () => wasiSysroot(path.join(OBJ, 'sysroot'));

// ---- 1. source ----

function source() {
  try {
    return debianSource({
      pkg: PACKAGE, cache: CACHE, refetch: !!opt.PYTHON_REFETCH, log,
      ready: (src) => fs.existsSync(path.join(src, 'Include', 'Python.h')),
    });
  } catch (e) {
    return fail(e.message);
  }
}

// ---- 2. configure ----

/** make's variables: the Makefile configure wrote, with the build Python's sysconfigdata name (see objects()). */
function makeVars(src, obj = OBJ, cflags = EXTRA_CFLAGS) {
  return [
    // Debian's sysconfigdata-name patch renames the module in Lib/sysconfig.py and Makefile.pre.in but the shipped
    // configure (not regenerated from the patched configure.ac) still names the build Python's copy with $(MACHDEP):
    // the same variable as configure.ac's, given to make instead of a sed of configure.
    `PYTHON_FOR_BUILD=_PYTHON_PROJECT_BASE=${obj} _PYTHON_HOST_PLATFORM=wasi-wasm32 ` +
      `PYTHONPATH=${obj}/$(shell test -f pybuilddir.txt && cat pybuilddir.txt):${src}/Lib ` +
      `_PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata_$(ABIFLAGS)_$(MULTIARCH) ${BUILD_PYTHON}`,
    `EXTRA_CFLAGS=${cflags.join(' ')}`,
    // configure's optimisation without -g: the DWARF would be stripped at the link, and it doubles compile time.
    'OPT=-DNDEBUG -fwrapv -O3 -Wall',
  ];
}

async function configure(src) {
  const root = sysroot();
  const cc = `${CC} --target=wasm32-wasi --sysroot=${root}`;
  const env = {
    ...process.env,
    CONFIG_SITE: path.join(src, 'Tools/wasm/config.site-wasm32-wasi'),
    CC: cc, CPP: `${cc} -E`, AR: 'llvm-ar', RANLIB: 'llvm-ranlib',
    // Only the sysroot's pkg-config files: the host's zlib, lzma and uuid would be found and fail to compile.
    PKG_CONFIG_PATH: '', PKG_CONFIG_LIBDIR: path.join(root, 'lib/pkgconfig'), PKG_CONFIG_SYSROOT_DIR: root,
  };
  // configure's link tests use no shared memory: the atomics flags go to make only (EXTRA_CFLAGS).
  const args = ['-C', '--host=wasm32-unknown-wasi', `--build=${execFileSync(path.join(src, 'config.guess'), { encoding: 'utf8' }).trim()}`,
    `--with-build-python=${BUILD_PYTHON}`];
  const stamp = path.join(OBJ, 'configure.stamp');
  const key = createHash('sha256').update(JSON.stringify({ src, args, cc, site: env.CONFIG_SITE })).digest('hex');
  if (fs.existsSync(path.join(OBJ, 'Makefile')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key) return;
  log(`configure ${args.join(' ')} (its answers only)`);
  // A changed input (another checkout, another compiler) invalidates the cache too: configure refuses a cache whose
  // environment differs.
  fs.rmSync(stamp, { force: true });
  fs.rmSync(path.join(OBJ, 'config.cache'), { force: true });
  await run('nice', ['-n', '10', path.join(src, 'configure'), ...args], { cwd: OBJ, env, stdio: ['ignore', 'ignore', 'inherit'] });
  fs.writeFileSync(stamp, key);
}

// ---- make ----

/** A variable of the configured Makefile. */
function makeVar(name, obj = OBJ) {
  return execFileSync('make', ['-s', '--no-print-directory', `--eval=print-var: ; @echo $(${name})`, 'print-var'], { cwd: obj, encoding: 'utf8' }).trim();
}

/** CPython's make for the objects and libraries the link takes, in `obj`. */
async function make(src, obj, cflags) {
  const deps = makeVar('LINK_PYTHON_DEPS', obj).split(/\s+/).filter(Boolean);
  const modlibs = makeVar('MODLIBS', obj).split(/\s+/).filter((w) => w.endsWith('.a'));
  const width = String(Number(opt.PYTHON_JOBS));
  log(`make -j${width} in ${path.relative(ROOT, obj)} (objects, libraries, sysconfigdata)`);
  await run('nice', ['-n', '10', 'make', `-j${width}`, '-s', '--no-print-directory', ...makeVars(src, obj, cflags), 'Programs/python.o', ...deps, ...modlibs, 'pybuilddir.txt'],
    { cwd: obj });
}

/** CPython's own link line, minus its driver flags: python.o (its main), the library and the modules' libraries. */
const pythonObjects = (obj) => ['Programs/python.o', ...makeVar('LINK_PYTHON_OBJS', obj).split(/\s+/), ...makeVar('MODLIBS', obj).split(/\s+/)]
  .filter((w) => w && !w.startsWith('-')).map((w) => path.join(obj, w));

// ---- 3. threads: CPython on the pthread layer -> build/python.wasm ----

const OBJ_THREADS = path.join(BUILD, 'python-obj-threads');
/** What configure must answer differently on the layer: POSIX threads (not the stub), and what the layer provides. */
const THREAD_ANSWERS = ['ac_cv_pthread_is_default', 'ac_cv_func_pthread_condattr_setclock', 'ac_cv_func_pthread_detach'];
/**
 * configure's switches for the threads build beyond the WASI configuration's. pymalloc: WASI's configure turns it off
 * (with Emscripten's); on the layer every malloc takes libc's lock, while pymalloc's pools live under the GIL.
 */
const THREAD_CONFIGURE = ['--with-pymalloc'];
/** Answers configure finds again against the layer's headers (compile tests only), or that name the compiler. */
const RECHECKED = /^(ac_cv_env_|ac_cv_prog_CC|ac_cv_prog_CPP|ac_cv_prog_ac_ct_CC|ac_cv_sizeof_pthread_key_t|ac_cv_pthread_key_t_is_arithmetic_type|ac_cv_have_pthread_t|ac_cv_header_pthread_h|ac_cv_header_semaphore_h)/;

/**
 * CPython modules the WASI configuration leaves out that build and work on the layer, listed in the build directory's
 * Modules/Setup.local (CPython's own place for local additions; make reruns makesetup when it changes).
 * _multiprocessing, without semaphores (POSIX_SEMAPHORES_NOT_ENABLED, configure's own switch for a platform without a
 * working sem_open): multiprocessing.connection and .queues import it, so concurrent.futures.process and
 * test_concurrent_futures import, and process pools report themselves unavailable (multiprocessing.synchronize raises
 * ImportError) instead of the whole module failing to import.
 */
const LOCAL_MODULES = ['_multiprocessing _multiprocessing/multiprocessing.c -DPOSIX_SEMAPHORES_NOT_ENABLED'];

function localModules(obj) {
  const file = path.join(obj, 'Modules', 'Setup.local');
  const text = `# Written by scripts/build-python.mjs\n${LOCAL_MODULES.join('\n')}\n`;
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  fs.writeFileSync(file, text);
  // The Makefile from it now, quietly: a later make would announce the update on stdout, where makeVar reads.
  execFileSync('make', ['-s', '--no-print-directory', 'Makefile'], { cwd: obj, stdio: 'ignore' });
}

/**
 * The WASI configuration's site file without its answers the layer changes: a site file's assignments win over the
 * cache (it is read first and the cache only fills what is unset), and it says WASI has no pipe.
 */
function layerSite(src) {
  const site = path.join(OBJ_THREADS, 'config.site-wasm32-wasi-layer');
  const text = fs.readFileSync(path.join(src, 'Tools/wasm/config.site-wasm32-wasi'), 'utf8').split('\n')
    .filter((l) => !PIPE_ANSWERS.some((v) => l.startsWith(`${v}=`))).join('\n');
  fs.writeFileSync(site, text);
  return site;
}

async function threads(src, { ver }) {
  const { posixLayer } = await import('./posix-layer.mjs');
  const layer = await posixLayer({ log, entry: true });
  fs.mkdirSync(OBJ_THREADS, { recursive: true });
  // configure's link tests cannot link the layer's shared-memory libc: its other answers are the WASI configure's
  // above (the same libc source, the same functions), given as its cache; CPython's own thread_pthread.h and GIL follow.
  const cache = fs.readFileSync(path.join(OBJ, 'config.cache'), 'utf8').split('\n').filter((l) => !RECHECKED.test(l))
    .map((l) => [...THREAD_ANSWERS, ...FORK_ANSWERS, ...PIPE_ANSWERS].reduce((line, v) => line.replace(`${v}=no`, `${v}=yes`), l)).join('\n');
  const cc = `${CC} --target=wasm32-wasi --sysroot=${layer.sysroot} -isystem ${path.join(ROOT, 'vms/posix/include')}`;
  const stamp = path.join(OBJ_THREADS, 'configure.stamp');
  const key = createHash('sha256').update(JSON.stringify({ src, cc, cache, args: THREAD_CONFIGURE })).digest('hex');
  if (!(fs.existsSync(path.join(OBJ_THREADS, 'Makefile')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key)) {
    fs.writeFileSync(path.join(OBJ_THREADS, 'config.cache'), cache);
    log('configure (threads, on the pthread layer)');
    await run('nice', ['-n', '10', path.join(src, 'configure'), '-C', '--host=wasm32-unknown-wasi',
      `--build=${execFileSync(path.join(src, 'config.guess'), { encoding: 'utf8' }).trim()}`, `--with-build-python=${BUILD_PYTHON}`, ...THREAD_CONFIGURE], {
      cwd: OBJ_THREADS, stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CONFIG_SITE: layerSite(src), CC: cc, CPP: `${cc} -E`, AR: 'llvm-ar', RANLIB: 'llvm-ranlib',
        PKG_CONFIG_PATH: '', PKG_CONFIG_LIBDIR: path.join(layer.sysroot, 'lib/pkgconfig'), PKG_CONFIG_SYSROOT_DIR: layer.sysroot },
    });
    fs.writeFileSync(stamp, key);
  }
  localModules(OBJ_THREADS);
  await make(src, OBJ_THREADS, EXTRA_CFLAGS);
  const own = await projectObjects(OBJ_THREADS);
  const tmp = `${OUT}.${process.pid}.tmp`;
  // The layer's link (its entry wtp_command, its exports, malloc and stdio under its locks); CPython's WASI stack
  // size, so that its data and the first thread's stack fit the layer's initial memory.
  await run(LD, [...layer.ldflags, '-z', 'stack-size=524288', '--strip-debug', '--error-limit=0', ...pythonObjects(OBJ_THREADS), ...own, ...layer.objects,
    ...layer.libs, '-o', tmp]);
  fs.renameSync(tmp, OUT);
  log(`${path.relative(ROOT, OUT)} (CPython ${ver} with threads, ${fs.statSync(OUT).size} bytes)`);
}

/**
 * The project's own C files for CPython (vms/python/src: the GIL under stop-the-world), compiled as CPython compiles
 * its core (the configured Makefile's CC and PY_CORE_CFLAGS, Py_BUILD_CORE), into `obj`/wasm-threads; their objects.
 */
async function projectObjects(obj) {
  const dir = path.join(ROOT, 'vms/python/src');
  const out = path.join(obj, 'wasm-threads');
  fs.mkdirSync(out, { recursive: true });
  const [cc, ...ccArgs] = makeVar('CC', obj).split(/\s+/);
  const flags = [...ccArgs, ...makeVar('PY_CORE_CFLAGS', obj).split(/\s+/).filter(Boolean), ...EXTRA_CFLAGS];
  const objects = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.c')).sort()) {
    const c = path.join(dir, f);
    const o = path.join(out, f.replace(/\.c$/, '.o'));
    const stale = !fs.existsSync(o) || [c, path.join(obj, 'pyconfig.h')].some((d) => fs.statSync(d).mtimeMs > fs.statSync(o).mtimeMs);
    if (stale) await run(cc, [...flags, '-c', c, '-o', o], { cwd: obj });
    objects.push(o);
  }
  return objects;
}

// ---- 4. the standard library ----

function stdlib(src) {
  const dest = path.join(LIB, 'lib', 'python3.11');
  const stamp = path.join(LIB, 'stamp');
  const builddir = path.join(OBJ_THREADS, fs.readFileSync(path.join(OBJ_THREADS, 'pybuilddir.txt'), 'utf8').trim());
  const sysconfigdata = fs.readdirSync(builddir).filter((f) => f.startsWith('_sysconfigdata_'));
  if (!sysconfigdata.length) fail(`no sysconfigdata in ${builddir}`);
  if (!(fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === src)) {
    fs.rmSync(LIB, { recursive: true, force: true });
    // The test package stays: `-m test` runs CPython's own regression tests from the same source.
    fs.cpSync(path.join(src, 'Lib'), dest, { recursive: true, filter: (f) => !f.includes('__pycache__') });
    fs.writeFileSync(stamp, src);
  }
  for (const f of sysconfigdata) fs.copyFileSync(path.join(builddir, f), path.join(dest, f));
  // getpath looks for the platform library directory; statically linked modules leave it empty.
  fs.mkdirSync(path.join(dest, 'lib-dynload'), { recursive: true });
  // The platform's own answers (vms/python/site: that threads start), loaded by site from a .pth file in the
  // directory site reads (Debian's patch names it dist-packages).
  const site = path.join(dest, 'dist-packages');
  fs.mkdirSync(site, { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, 'vms/python/site'))) fs.copyFileSync(path.join(ROOT, 'vms/python/site', f), path.join(site, f));
  // sys.executable: the command's argv[0] (vms/python/host/cli.ts PYTHON_EXECUTABLE), a command that starts this
  // Python again. getpath finds the prefix (lib/python3.11/os.py) above it. A script of Node's own, not of a shell: a
  // shell drops the environment's names that are not its identifiers (subprocess's env={"a-b": …}); CommonJS by its
  // directory's package.json, so that no Node line guesses at a file without an extension.
  const bin = path.join(LIB, 'bin', 'python3.11');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.writeFileSync(path.join(LIB, 'bin', 'package.json'), '{ "type": "commonjs" }\n');
  const cli = pathToFileURL(path.join(ROOT, 'dist/vms/python/host/cli.js')).href;
  fs.writeFileSync(bin, `#!${process.execPath}\nimport(${JSON.stringify(cli)}).then((cli) => cli.runCommand());\n`, { mode: 0o755 });
  log(`${path.relative(ROOT, LIB)} (${sysconfigdata.join(', ')})`);
}

// ---- 5. fork: os.fork from any depth -> build/python-fork-anywhere.wasm ----

/**
 * What configure answers on the layer for os.fork: fork() from vms/posix/src/fork.c (libc's locks held across the
 * copy), waitpid()/wait() and <sys/wait.h> from the layer too, and getppid()/kill() (vms/posix/src/proc.c, which
 * answers getpid() too: the process's own pids). CPython's os.fork then runs PyOS_BeforeFork and PyOS_AfterFork_*
 * itself; os.register_at_fork, os.wait*, os.getppid and os.kill exist. No source is changed.
 */
const FORK_ANSWERS = ['ac_cv_func_fork', 'ac_cv_func_waitpid', 'ac_cv_func_wait', 'ac_cv_header_sys_wait_h', 'ac_cv_func_getppid', 'ac_cv_func_kill'];
/**
 * What configure answers on the layer for pipes: pipe() and pipe2() from vms/posix/src/pipe.c (a ring in the process's
 * memory; WASI has none), so os.pipe and os.pipe2 exist, and subprocess's pipes with them (docs/PYTHON.md
 * "Processes").
 */
const PIPE_ANSWERS = ['ac_cv_func_pipe', 'ac_cv_func_pipe2'];
const OUT_FORK = path.join(BUILD, 'python-fork-anywhere.wasm');

/**
 * The fork build step (scripts/asyncify-fork.mjs) over build/python.wasm: asyncify on exactly the functions that
 * can be on a thread's stack when fork() calls the layer's fork_here import, so that the host unwinds them, copies
 * the memory and rewinds them in the parent and the child (host/c-fork.ts). Its own module: the speed of the build
 * without it is kept where no fork is wanted (docs/PYTHON.md "fork").
 */
async function forkBuild() {
  const { asyncifyForFork } = await import('./asyncify-fork.mjs');
  log('asyncify for fork (fork path of wtp_fork.fork_here; a minute or two)');
  const r = asyncifyForFork({ input: OUT, output: OUT_FORK, imports: ['wtp_fork.fork_here'] });
  log(`${path.relative(ROOT, OUT_FORK)} (${r.instrumented.length} of ${r.functions} functions instrumented; ${r.inputBytes} -> ${r.outputBytes} bytes)`);
}

const OUT_FORK_LISTED = path.join(BUILD, 'python-fork-listed.wasm');
const FORK_FRAMES = path.join(ROOT, 'vms', 'python', 'fork-frames.txt');

/**
 * The fork build step with a list (vms/python/fork-frames.txt): asyncify on the eval loop and the call paths a fork
 * is expected under, not on every function that can be on a fork's stack; the host refuses a fork under any other
 * (host/c-fork.ts). Most of the fork-anywhere build's cost is the thousands of functions it instruments because an
 * indirect call of a common type might lead to a fork; this one pays for sixty (docs/PYTHON.md "fork").
 */
async function forkListedBuild() {
  const { asyncifyForFork } = await import('./asyncify-fork.mjs');
  const frames = fs.readFileSync(FORK_FRAMES, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  log(`asyncify for fork, listed (${frames.length} functions of vms/python/fork-frames.txt)`);
  const r = asyncifyForFork({ input: OUT, output: OUT_FORK_LISTED, imports: ['wtp_fork.fork_here'], frames });
  log(`${path.relative(ROOT, OUT_FORK_LISTED)} (${r.instrumented.length} of ${r.functions} functions instrumented; ${r.inputBytes} -> ${r.outputBytes} bytes)`);
}

// ---- the build ----

const missing = [
  !have(CC) && CC, !have(LD) && LD, !have('apt-get') && 'apt-get', !have('dpkg-source') && 'dpkg-source (dpkg-dev)',
  !have('make') && 'make', !have('llvm-ar') && 'llvm-ar (llvm)', !fs.existsSync(BUILD_PYTHON) && `${BUILD_PYTHON} (python3.11)`,
  !fs.existsSync(path.join(WASI_LIB, 'libc.a')) && 'wasi-libc', !fs.existsSync(CLANG_RT) && 'libclang-rt-19-dev-wasm32',
].filter(Boolean);
if (missing.length) {
  if (opt.NEED_PYTHON) fail(`missing ${missing.join(', ')}`);
  log(`missing ${missing.join(', ')}: build/python.wasm not built`);
  process.exit(0);
}

fs.mkdirSync(OBJ, { recursive: true });
const pkg = source();
try {
  await configure(pkg.src);
  await threads(pkg.src, pkg);
  stdlib(pkg.src);
  if (opt.PYTHON_FORK !== '0') {
    await forkBuild();
    await forkListedBuild();
  }
} catch (e) {
  fail(e.message);
}
