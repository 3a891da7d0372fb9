// The fork build step of a C VM (docs/EMBEDDING.md "fork from a C module"):
// binaryen's asyncify over exactly the functions that can be on the stack when
// the VM's fork import is called, so that the host can unwind the forking
// thread's C frames, copy the memory with them in it, and rewind them in the
// parent and in the child.
//
// The list is computed from the module's call graph, not written by hand: a
// function is instrumented when it calls the fork import, calls a function
// that is instrumented, or makes an indirect call whose type some function in
// the table with an instrumented body has (an indirect call can only reach a
// table entry of its own type: the engine traps on any other). binaryen 108
// on its own assumes every indirect call may fork; in a VM whose allocator is
// a function pointer (Lua's lua_Alloc) that instruments nearly everything.
// Since the list is every function on any path to the import, no fork can
// happen under a function left out: none is needed as a runtime check.
//
// A function with a Wasm `try` (setjmp lowered to Wasm exceptions) cannot be
// instrumented by binaryen 108. It may stay on a fork path only as a
// pass-through: reached through an indirect call, doing nothing after its call
// but return, and repeating only idempotent work before it (Lua's ltry.c).
// Such functions are named in `passThrough`; any other `try` on a path fails
// the build.
//
// Use: import { asyncifyForFork } from './asyncify-fork.mjs';
//      await asyncifyForFork({ input, output, imports: ['wtp_fork.fork_here'], passThrough: ['try_call'] });
// or:  node scripts/asyncify-fork.mjs in.wasm out.wasm module.name[,module.name] [passThrough,...]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerHelp, envOptions } from './build-options.mjs';

const USAGE = 'node scripts/asyncify-fork.mjs in.wasm out.wasm module.field[,module.field] [passThrough,...]';
const OPTIONS = {
  usage: USAGE,
  env: {
    // Debian's binaryen (108): .ci/run installs it
    WASM_OPT: { default: '/usr/bin/wasm-opt', doc: 'binaryen\'s optimizer, which instruments the module' },
    WASM_DIS: { default: '', doc: 'binaryen\'s disassembler, which gives the call graph (default: wasm-dis beside WASM_OPT)' },
  },
};
const opt = envOptions(OPTIONS.env);
export const WASM_OPT = opt.WASM_OPT;
const WASM_DIS = opt.WASM_DIS || path.join(path.dirname(WASM_OPT), 'wasm-dis');

const FEATURES = ['--enable-threads', '--enable-bulk-memory', '--enable-mutable-globals', '--enable-exception-handling',
  '--enable-sign-ext', '--enable-nontrapping-float-to-int'];

/** The call graph of a module as wasm-dis prints it (binaryen 108's text: names from the name section). */
export function callGraph(wat) {
  const types = new Map(); // type name -> signature text
  for (const m of wat.matchAll(/^ \(type \$(\S+) \(func(.*)\)\)$/gm)) types.set(m[1], m[2].trim());
  const imports = new Map(); // internal name -> "module.field"
  for (const m of wat.matchAll(/^ \(import "([^"]+)" "([^"]+)" \(func \$(\S+)/gm)) imports.set(m[3], `${m[1]}.${m[2]}`);
  const table = [];
  for (const m of wat.matchAll(/^ \(elem [^$]*((?:\$\S+\s*)+)\)$/gm)) table.push(...m[1].trim().split(/\s+/).map((n) => n.slice(1)));
  const funcs = new Map(); // name -> { sig, calls: Set, indirect: Set(sig), tries }
  const sigOf = (header) => {
    const params = [...header.matchAll(/\(param (?:\$\S+ )?([^)]+)\)/g)].flatMap((m) => m[1].trim().split(/\s+/));
    const results = [...header.matchAll(/\(result ([^)]+)\)/g)].flatMap((m) => m[1].trim().split(/\s+/));
    return `${params.join(',')}->${results.join(',')}`;
  };
  const typeSig = (name) => {
    const t = types.get(name);
    if (t === undefined) throw new Error(`asyncify-fork: unknown type $${name}`);
    return sigOf(t);
  };
  const lines = wat.split('\n');
  let cur = null;
  for (const line of lines) {
    const head = /^ \(func \$(\S+)(.*)$/.exec(line);
    if (head) {
      cur = { sig: sigOf(head[2]), calls: new Set(), indirect: new Set(), tries: false };
      funcs.set(head[1], cur);
      continue;
    }
    if (!cur) continue;
    if (/^ \(/.test(line)) { cur = null; continue; }
    for (const m of line.matchAll(/\((?:return_)?call \$(\S+?)\)?(?:\s|$)/g)) cur.calls.add(m[1].replace(/\)+$/, ''));
    for (const m of line.matchAll(/\((?:return_)?call_indirect (?:\$\S+ )?\(type \$(\S+?)\)/g)) cur.indirect.add(typeSig(m[1]));
    if (/\(try\b/.test(line)) cur.tries = true;
  }
  if (/\(ref\.func /.test(wat) || /\(table\.(set|grow|init|copy)\b/.test(wat)) {
    throw new Error('asyncify-fork: the module changes its table at run time; indirect calls cannot be resolved by type');
  }
  return { funcs, imports, table };
}

/**
 * The functions that can be on the stack when one of `forkImports` ("module.field") is called: every function
 * with a path to it, indirect calls resolved by type over the table.
 */
export function forkPathFunctions(graph, forkImports) {
  const { funcs, imports, table } = graph;
  const targets = new Set([...imports].filter(([, full]) => forkImports.includes(full)).map(([name]) => name));
  for (const want of forkImports) if (![...imports.values()].includes(want)) throw new Error(`asyncify-fork: the module does not import ${want}`);
  const reach = new Set();
  const tableBySig = new Map();
  for (const name of table) {
    const f = funcs.get(name);
    if (!f) continue; // an import in the table: it never calls back into the module here
    if (!tableBySig.has(f.sig)) tableBySig.set(f.sig, []);
    tableBySig.get(f.sig).push(name);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, f] of funcs) {
      if (reach.has(name)) continue;
      const hit = [...f.calls].some((c) => targets.has(c) || reach.has(c))
        || [...f.indirect].some((sig) => (tableBySig.get(sig) ?? []).some((t) => reach.has(t)));
      if (hit) { reach.add(name); changed = true; }
    }
  }
  return reach;
}

/** The custom section of a build with a list (host/c-fork.ts FORK_FRAMES_SECTION reads it). */
export const FORK_FRAMES_SECTION = 'wasm-threads.fork-frames';

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};

/** `bytes` with a custom section `name` holding `payload` appended. */
function withCustomSection(bytes, name, payload) {
  const n = Buffer.from(name, 'utf8');
  const body = Buffer.concat([Buffer.from(leb(n.length)), n, payload]);
  return Buffer.concat([bytes, Buffer.from([0, ...leb(body.length)]), body]);
}

/**
 * Asyncify `input` for a fork through `imports` into `output`; returns the instrumented list and sizes.
 *
 * `frames`: instrument only these functions (those a fork is meant to happen under: a VM's loop and its call path)
 * rather than every function that can be on a fork's stack. The output carries their indices
 * (FORK_FRAMES_SECTION), and the host refuses a fork under any other function before it unwinds anything
 * (host/c-fork.ts). The module is optimized before the instrumentation, not after, so that no function left out
 * is inlined into a listed one, where its calls would unwind unchecked.
 */
export function asyncifyForFork({ input, output, imports, passThrough = [], optimize = '-O2', frames }) {
  const wat = execFileSync(WASM_DIS, [input], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const graph = callGraph(wat);
  let reach = forkPathFunctions(graph, imports);
  if (frames) {
    const unknown = frames.filter((n) => !graph.funcs.has(n));
    if (unknown.length) throw new Error(`asyncify-fork: no function ${unknown.join(', ')} (frames)`);
    // a listed function on no path to the fork needs nothing
    reach = new Set(frames.filter((n) => reach.has(n)));
  }
  const trying = [...reach].filter((n) => graph.funcs.get(n).tries);
  const bad = trying.filter((n) => !passThrough.includes(n));
  if (bad.length) {
    throw new Error(`asyncify-fork: ${bad.join(', ')} on a fork path contain a Wasm try, which binaryen 108's asyncify cannot instrument (make it a pass-through, as vms/lua/src/ltry.c does)`);
  }
  for (const n of passThrough) {
    const f = graph.funcs.get(n);
    if (!f) throw new Error(`asyncify-fork: no function ${n} (pass-through)`);
    if (!graph.table.includes(n)) throw new Error(`asyncify-fork: pass-through ${n} is not reached through the table`);
    const direct = [...graph.funcs].filter(([, g]) => g.calls.has(n)).map(([name]) => name);
    if (direct.length) throw new Error(`asyncify-fork: pass-through ${n} is called directly by ${direct.join(', ')}: that call site would not be instrumented`);
  }
  const list = [...reach].filter((n) => !passThrough.includes(n)).sort();
  // binaryen reads a long list from a file (@file)
  const listFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asyncify-')), 'onlylist.txt');
  fs.writeFileSync(listFile, list.join(','));
  const tmp = `${output}.${process.pid}.tmp`;
  try {
    const asyncify = ['--asyncify', `--pass-arg=asyncify-imports@${imports.join(',')}`, `--pass-arg=asyncify-onlylist@@${listFile}`];
    // -g keeps the name section: the commands find the VM's loop by its name to compile it up front (host/node/engine.ts)
    execFileSync(WASM_OPT, [input, ...FEATURES, ...(frames ? [optimize, ...asyncify] : [...asyncify, optimize]), '-g', '-o', tmp],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    if (frames) {
      // the listed functions' indices in the output (the optimizer may have inlined some away)
      const out = callGraph(execFileSync(WASM_DIS, [tmp], { encoding: 'utf8', maxBuffer: 1 << 30 }));
      const names = [...out.funcs.keys()];
      const functions = list.filter((n) => out.funcs.has(n)).map((n) => out.imports.size + names.indexOf(n));
      fs.writeFileSync(tmp, withCustomSection(fs.readFileSync(tmp), FORK_FRAMES_SECTION, Buffer.from(JSON.stringify({ functions }))));
    }
    fs.renameSync(tmp, output);
  } finally {
    fs.rmSync(path.dirname(listFile), { recursive: true, force: true });
    fs.rmSync(tmp, { force: true });
  }
  return { instrumented: list, functions: graph.funcs.size, inputBytes: fs.statSync(input).size, outputBytes: fs.statSync(output).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  answerHelp(process.argv.slice(2), 'asyncify-fork', 'the fork build step: a module whose fork import can be called from any depth of C frames', OPTIONS);
  const [input, output, imports, pass] = process.argv.slice(2);
  if (!input || !output || !imports) {
    console.error(`usage: ${USAGE}`);
    process.exit(2);
  }
  const r = asyncifyForFork({ input, output, imports: imports.split(','), passThrough: pass ? pass.split(',') : [] });
  console.log(`asyncify-fork: ${r.instrumented.length} of ${r.functions} functions instrumented; ${r.inputBytes} -> ${r.outputBytes} bytes`);
}
