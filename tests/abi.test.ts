// Conformance: the generated copies of the ABI have not drifted from
// abi/abi.json, docs/ABI.md's tables match what every shipped build really
// imports and exports, the error tables agree across layers, and a memory
// outside the documented limits does not link.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { EXPORTS, IMPORTS, OTHER_EXPORTS } from '../host/abi.generated.js';
import * as LAYOUT from '../host/layout.js';
import { GEN_MASK, HEADER, MEMORY_INITIAL_PAGES, MEMORY_MAXIMUM_PAGES, LAYOUT_END, STATE_NAMES } from '../host/layout.js';
import {
  DOMAIN_CLASSES, ERRNO, ERROR_CLASSES, ERROR_RANGES, ERROR_TABLE, LockError, SeqlockError, StatsBusyError, StopBusyError,
  WasmThreadsError, errorFor, type ErrorDomain,
} from '../host/errors.js';
import { AssembleError } from '../interp/assembler.js';
import { InterpreterError } from '../interp/interpreter.js';
import { readSignatures, type FuncSig, type MemoryLimits } from './lib/wasm-binary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

/** Every shipped build and the module name its exports are documented under. Adding a build is one line. */
export const SHIPPED_BUILDS: { file: string; build: string; module: string }[] = [
  { file: 'build/core.wasm', build: 'core', module: 'core' },
  { file: 'build/core.debug.wasm', build: 'core.debug', module: 'core' },
  { file: 'build/interp.wasm', build: 'interp', module: 'interp' },
  { file: 'build/interp.debug.wasm', build: 'interp.debug', module: 'interp' },
  { file: 'build/diag.wasm', build: 'diag', module: 'diag' },
  { file: 'build/diag.debug.wasm', build: 'diag.debug', module: 'diag' },
];

const WASM_TYPE: Record<string, string> = { i32: 'i32', u32: 'i32', usize: 'i32', i64: 'i64', f64: 'f64' };
const ABI = JSON.parse(read('abi/abi.json'));

/** docs/ABI.md's export rows: name → "(a: t, …) → r". */
function docExports(): Map<string, { params: string[]; result: string }> {
  const out = new Map<string, { params: string[]; result: string }>();
  for (const m of read('docs/ABI.md').matchAll(/^\| `([a-z_0-9]+)` \| \(([^)]*)\) → (i32|i64|f64)/gm)) {
    const params = m[2] ? m[2].split(', ').map((p) => WASM_TYPE[p.split(': ')[1]]) : [];
    out.set(m[1], { params, result: m[3] });
  }
  return out;
}

/** docs/ABI.md's import rows: "module.name" → { type, builds }. */
function docImports(): Map<string, { type: string; builds: string[] }> {
  const out = new Map<string, { type: string; builds: string[] }>();
  for (const m of read('docs/ABI.md').matchAll(/^\| `([a-z_]+\.[a-z_]+)` \| `([^`]+)` \| ([^|]+) \|/gm)) {
    out.set(m[1], { type: m[2], builds: [...m[3].matchAll(/`build\/([a-z.]+)\.wasm`/g)].map((b) => b[1]) });
  }
  return out;
}

test('the generated files match abi/abi.json (node scripts/gen-abi.mjs --check)', () => {
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-abi.mjs'), '--check'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.unreachable(`ABI drift: ${(e as { stderr?: string }).stderr}`);
  }
});

/** Runs gen-abi.mjs on a copy of the sources after `edit`; its exit code and message. */
function genInCopy(edit: (dir: string) => void, args: string[] = ['--check']): { code: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gen-abi-'));
  try {
    for (const p of ['abi', 'scripts/gen-abi.mjs', 'scripts/build-options.mjs', 'assembly', 'include', 'docs', 'README.md', 'interp']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    cpSync(join(ROOT, 'host'), join(dir, 'host'), { recursive: true, filter: (src) => statSync(src).isDirectory() || src.endsWith('.ts') });
    edit(dir);
    try {
      execFileSync(process.execPath, [join(dir, 'scripts/gen-abi.mjs'), ...args], { encoding: 'utf8', stdio: 'pipe' });
      return { code: 0, stderr: '' };
    } catch (e) {
      const x = e as { status?: number; stderr?: string };
      return { code: x.status ?? 1, stderr: x.stderr ?? '' };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const replaceIn = (dir: string, file: string, from: string | RegExp, to: string) => {
  const text = readFileSync(join(dir, file), 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: ${from} not found`);
  writeFileSync(join(dir, file), next);
};

test('--check passes on an unchanged copy of the sources', () => {
  const r = genInCopy(() => {});
  assert.is(r.code, 0, r.stderr);
});

// Every hand-edit of a generated copy is drift that --check names.
const EDITS: [what: string, file: string, from: string | RegExp, to: string][] = [
  ['a thread state name', 'host/layout.generated.ts', "'SUSPENDED'", "'PARKED'"],
  ['a diag export parameter renamed', 'host/diag.ts', 'no_poll: number', 'noPoll: number'],
  ['an opcode renumbered in the VM', 'interp/assembler.ts', 'poll: 25', 'poll: 26'],
  ['a context offset moved in the VM', 'interp/interpreter.ts', 'steps: 56', 'steps: 60'],
  ['an interp export dropped', 'host/modules.ts', /^ {2}interp_heap_top_addr\(\): number;\n/m, ''],
  ['the seqlock writer-waiting bit', 'assembly/layout.ts', /WRITER_WAITING: u32 = 0x80000000/, 'WRITER_WAITING: u32 = 0x40000000'],
  ['a core export', 'host/core.ts', /^ {2}poll\(h: number\)/m, '  poll(handle: number)'],
];
for (const [what, file, from, to] of EDITS) {
  test(`--check names ${file} when ${what} drifts`, () => {
    const r = genInCopy((dir) => replaceIn(dir, file, from, to));
    assert.is(r.code, 1);
    assert.match(r.stderr, `ABI drift: ${file}`);
  });
}

test('a target that moved is an error, with --check and without', () => {
  for (const args of [['--check'], []]) {
    const r = genInCopy((dir) => renameSync(join(dir, 'host/modules.ts'), join(dir, 'host/linked.ts')), args);
    assert.is(r.code, 1, `gen-abi.mjs ${args.join(' ')}`);
    assert.match(r.stderr, 'ABI targets missing: host/modules.ts');
  }
});

test('STATE_NAMES names every ST_* state at its number; WRITER_WAITING comes from abi.json, like LOCK_WAITERS', () => {
  const states = Object.entries(LAYOUT).filter(([k]) => k.startsWith('ST_'));
  assert.is(STATE_NAMES.length, states.length);
  for (const [k, v] of states) assert.is(STATE_NAMES[v as number], k.slice(3), k);
  assert.is(LAYOUT.WRITER_WAITING, LAYOUT.LOCK_WAITERS);
  assert.not.match(read('assembly/seqlock.ts'), /const WRITER_WAITING/, 'seqlock.ts uses the generated constant');
});

for (const b of SHIPPED_BUILDS) {
  test(`${b.file}: exports and imports are exactly docs/ABI.md's tables`, () => {
    const bytes = readFileSync(join(ROOT, b.file));
    const module = new WebAssembly.Module(bytes);
    const sigs = readSignatures(bytes);
    const docs = docExports();
    const documented = EXPORTS.filter((x) => x.module === b.module);
    const fnExports = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
    const missing = documented.map((x) => x.name).filter((n) => !fnExports.includes(n));
    const extra = fnExports.filter((n) => !documented.some((x) => x.name === n));
    assert.equal({ missing, extra }, { missing: [], extra: [] },
      `${b.file} and abi/abi.json disagree: describe a new export in abi.json's "exports" (module "${b.module}") and run node scripts/gen-abi.mjs`);
    assert.equal(fnExports, [...docs.keys()].filter((n) => documented.some((x) => x.name === n)).sort(), 'and = docs/ABI.md');
    for (const name of fnExports) {
      const sig = sigs.exports.get(name) as FuncSig;
      const doc = docs.get(name)!;
      assert.equal(sig.params, doc.params, `${name} params`);
      assert.equal(sig.results, [doc.result], `${name} result`);
    }
    // Linked modules also export their tables as immutable globals (checked in tests/linked.test.ts).
    const others = WebAssembly.Module.exports(module).filter((e) => e.kind !== 'function' && e.kind !== 'global');
    assert.equal(others, OTHER_EXPORTS.map((x) => ({ name: x.name, kind: x.kind })));

    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
    const docImp = docImports();
    const want = [...docImp].filter(([, v]) => v.builds.includes(b.build)).map(([k]) => k).sort();
    assert.equal(imports, want, 'imports = docs/ABI.md');
    assert.equal(want, IMPORTS.filter((i) => i.builds.includes(b.build)).map((i) => `${i.module}.${i.name}`).sort());
    for (const [key, v] of docImp) {
      if (!v.builds.includes(b.build)) continue;
      const got = sigs.imports.get(key)!;
      if ('min' in got) {
        const m = got as MemoryLimits;
        assert.is(v.type, `(memory ${m.min} ${m.max} ${m.shared ? 'shared' : ''})`.replace(' )', ')'), `${key} limits`);
        assert.is(m.min, MEMORY_INITIAL_PAGES);
        assert.is(m.max, MEMORY_MAXIMUM_PAGES);
      } else {
        const f = got as FuncSig;
        assert.is(v.type, `(${f.params.join(', ')}) -> ${f.results.length ? f.results.join(', ') : '()'}`, `${key} type`);
      }
    }
  });

  test(`${b.file}: links at the documented memory limits and refuses a memory outside them`, async () => {
    const module = new WebAssembly.Module(readFileSync(join(ROOT, b.file)));
    const ok = new WebAssembly.Memory({ initial: MEMORY_INITIAL_PAGES, maximum: MEMORY_MAXIMUM_PAGES, shared: true });
    const baseEnv = (memory: WebAssembly.Memory) => ({ env: { memory, now_ms: () => performance.now(), abort: () => { throw new Error('abort'); } } });
    // A linked module also imports the core's functions: link it against a core instance over the good memory.
    const coreModule = new WebAssembly.Module(readFileSync(join(ROOT, 'build/core.wasm')));
    const coreOk = b.module === 'core' ? undefined : (await WebAssembly.instantiate(coreModule, baseEnv(ok))).exports;
    const env = (memory: WebAssembly.Memory) => (coreOk ? { ...baseEnv(memory), core: coreOk } : baseEnv(memory));
    const inst = await WebAssembly.instantiate(module, env(ok));
    if (coreOk) {
      assert.ok(Object.keys(inst.exports).length > 0);
    } else {
      const core = inst.exports as unknown as { init(c: number): number; layout_end(): number };
      assert.is(core.init(4), 0);
      assert.is(core.layout_end(), LAYOUT_END);
    }
    const bad: [string, WebAssembly.MemoryDescriptor][] = [
      ['fewer pages than the minimum', { initial: MEMORY_INITIAL_PAGES - 1, maximum: MEMORY_MAXIMUM_PAGES, shared: true }],
      ['a maximum above the documented one', { initial: MEMORY_INITIAL_PAGES, maximum: MEMORY_MAXIMUM_PAGES + 1, shared: true }],
      ['no maximum', { initial: MEMORY_INITIAL_PAGES, maximum: 65536, shared: true }],
      ['an unshared memory', { initial: MEMORY_INITIAL_PAGES, maximum: MEMORY_MAXIMUM_PAGES }],
    ];
    for (const [what, d] of bad) {
      await WebAssembly.instantiate(module, env(new WebAssembly.Memory(d))).then(
        () => assert.unreachable(`${what} linked`),
        (e) => assert.instance(e, WebAssembly.LinkError, what),
      );
    }
  });
}

test('error tables: one range per layer, disjoint numbers, the host and the core agree with abi/abi.json', () => {
  assert.equal(ERROR_TABLE.map((e) => [e.errno, e.code, e.message, e.className]), ABI.errors.map((e: { n: number; name: string; message: string; class: string }) => [e.n, e.name, e.message, e.class]));
  assert.is(new Set(ERROR_TABLE.map((e) => e.errno)).size, ERROR_TABLE.length, 'numbers unique');
  assert.is(new Set(ERROR_TABLE.map((e) => e.code)).size, ERROR_TABLE.length, 'names unique');
  for (const e of ERROR_TABLE) {
    const r = ERROR_RANGES[e.layer];
    assert.ok(e.errno <= r.from && e.errno >= r.to, `${e.code} ${e.errno} inside the ${e.layer} range`);
  }
  const ranges = Object.values(ERROR_RANGES).sort((a, b) => b.from - a.from);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i].from < ranges[i - 1].to, 'ranges disjoint');
  // the AssemblyScript side
  const asCodes = [...read('assembly/errors.ts').matchAll(/export const (E_[A-Z_]+): i32 = (-\d+);/g)].map((m) => [Number(m[2]), m[1]]);
  assert.equal(asCodes, ERROR_TABLE.filter((e) => e.layer === 'core').map((e) => [e.errno, e.code]));
  assert.is(ERRNO.E_OWNER_DEAD, -18);
  assert.is(ERRNO.E_NOT_RECOVERABLE, -19);
});

test('every code maps to its class; the class depends on the operation', () => {
  const classes: Record<string, unknown> = { ...ERROR_CLASSES };
  const detail = { lockId: 1, stragglers: [], timeoutMs: 1, pc: 0, line: 1 };
  for (const e of ERROR_TABLE) {
    assert.ok(classes[e.className], `${e.className} exists`);
    const err = errorFor(e.errno, 'op', 'fork', detail);
    assert.is(err.constructor.name, e.className, e.code);
    assert.is(err.code, e.code);
    assert.is(err.errno, e.errno);
  }
  const busy = (d: ErrorDomain) => errorFor(ERRNO.E_BUSY, 'op', d);
  assert.instance(busy('lock'), LockError);
  assert.instance(busy('cache'), SeqlockError);
  assert.instance(busy('record'), SeqlockError);
  assert.instance(busy('stats'), StatsBusyError);
  assert.instance(busy('stop'), StopBusyError);
  assert.not.instance(busy('thread'), StopBusyError, 'E_BUSY without a stop is no StopBusyError');
  for (const [d, map] of Object.entries(DOMAIN_CLASSES)) {
    for (const [code, cls] of Object.entries(map)) assert.is(errorFor(ERRNO[code as keyof typeof ERRNO], 'op', d as ErrorDomain, detail).constructor.name, cls);
  }
  const unknown = errorFor(-98, 'op', 'thread');
  assert.is(unknown.code, 'E_UNKNOWN');
  assert.is(unknown.errno, -98);
  assert.instance(new AssembleError(3, 'x'), WasmThreadsError);
  assert.is(new AssembleError(3, 'x').code, 'E_ASSEMBLE');
  const ie = new InterpreterError(ERRNO.E_VM_BAD_JUMP, 0, undefined, 'x');
  assert.is(ie.code, 'E_VM_BAD_JUMP');
  assert.is(ie.errno, -203);
});

test('the memory map drawn in assembly/layout.ts shows every block at its address and size', () => {
  const rows = [...read('assembly/layout.ts').matchAll(/│ 0x([0-9a-f]+) │\s+([\d…]+)\s*(KiB|B)?\s*│ (\S+)/g)]
    .map((m) => ({ addr: parseInt(m[1], 16), size: m[3] === 'KiB' ? Number(m[2]) * 1024 : m[3] === 'B' ? Number(m[2]) : undefined, name: m[4] }));
  for (const s of ABI.layout.filter((s: { block?: unknown }) => s.block)) {
    const b = s.block as { name: string; addr: string; size: number };
    const row = rows.find((r) => r.name === b.name);
    assert.ok(row, `${b.name} is drawn`);
    assert.is(row!.addr, Number(b.addr), `${b.name} address`);
    assert.is(row!.size, b.size, `${b.name} size`);
  }
  assert.ok(rows.some((r) => r.addr === LAYOUT_END), 'LAYOUT_END is drawn');
});

test('README lists every error class and code', () => {
  const readme = read('README.md');
  for (const e of ERROR_TABLE) assert.ok(readme.includes(`\`${e.code}\``), `README names ${e.code}`);
  for (const name of Object.keys(ERROR_CLASSES)) assert.ok(readme.includes(`\`${name}\``), `README names ${name}`);
});

test('no layout address or mask is spelled as a literal outside the source of truth', () => {
  const addrs = new Set<number>();
  for (const s of ABI.layout) {
    if (s.block) addrs.add(Number(s.block.addr));
    for (const it of s.items) if (it.offset !== undefined) addrs.add(Number(s.block.addr) + it.offset);
  }
  addrs.add(LAYOUT_END);
  addrs.add(GEN_MASK);
  // an address spelled as HEADER's number plus an offset, or a VM/fork code as a table key
  const spelled = new RegExp(`0x${HEADER.toString(16)} \\+|\\[-[12]\\d\\d\\]`);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(join(ROOT, dir))) {
      const rel = `${dir}/${f}`;
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else if (f.endsWith('.ts') && !f.endsWith('.generated.ts')) {
        read(rel).split('\n').forEach((line, i) => {
          for (const m of line.matchAll(/\b0x[0-9a-f]+\b/gi)) if (addrs.has(Number(m[0]))) offenders.push(`${rel}:${i + 1}: ${m[0]}`);
          if (spelled.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  for (const d of ['host', 'interp', 'scripts', 'tests']) walk(d);
  assert.equal(offenders, []);
});

test.run();
