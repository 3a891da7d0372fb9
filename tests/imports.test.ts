// The project's module structure: no import circle anywhere (type imports
// included: the host, the VMs, the scripts, the reference VM's host and the
// tests), the fork subsystem never reaches back into the runtime that
// composes it, and no host file grows past what a reader takes in at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TREES = ['host', 'vms', 'scripts', 'interp', 'tests'];
const MAX_LINES = 400;

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

// Every `import … from`, `import type … from`, `export … from` and `import('…')` of a relative module.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
// Comments that begin a line: a usage example in a header is no import.
const COMMENTS = /^\s*\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm;

/** The relative modules `text` imports. */
export function specifiers(text: string): string[] {
  return [...text.replace(COMMENTS, '').matchAll(SPECIFIER)].map((m) => m[1]);
}

/** file → the files it imports (repository-relative paths; `x.js` is the source `x.ts` where no `x.js` is one). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const known = new Set(files);
  for (const f of files) {
    const deps = specifiers(fs.readFileSync(path.join(ROOT, f), 'utf8')).map((s) => {
      const p = path.normalize(path.join(path.dirname(f), s));
      return known.has(p) ? p : p.replace(/\.js$/, '.ts');
    });
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** The strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const files = TREES.flatMap(sources);

test(`no import circle among the project's files (${TREES.join(', ')}; type imports included)`, () => {
  const graph = importGraph(files);
  for (const tree of TREES) assert.ok(files.some((f) => f.startsWith(tree + path.sep)), `${tree} was read`);
  assert.equal(circles(graph), []);
});

test('negative control: a circle through a type import is found', () => {
  const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.equal(circles(g), [['a.ts', 'b.ts', 'c.ts']]);
  const text = "import type { X } from './b.js';\nexport { Y } from '../c.js';\nconst z = await import('./d.js');\nimport './e.mjs';";
  assert.equal(specifiers(text), ['./b.js', '../c.js', './d.js', './e.mjs']);
  assert.equal(specifiers("// Use: import { f } from './self.mjs';\n/*\n * import { g } from './h.js';\n */\nimport { i } from './j.js';"), ['./j.js'],
    'an import in a comment is none');
});

/** The files `from` reaches through its imports, itself included. */
function reach(graph: Map<string, string[]>, from: string): Set<string> {
  const seen = new Set([from]);
  for (const v of seen) for (const w of graph.get(v) ?? []) seen.add(w);
  return seen;
}

test('nothing in host/fork/ imports the runtime that composes it, directly or through another file', () => {
  const graph = importGraph(files);
  const runtime = path.join('host', 'runtime.ts');
  const offenders = [...graph.keys()].filter((f) => f.startsWith(`host${path.sep}fork${path.sep}`) && reach(graph, f).has(runtime));
  assert.equal(offenders, []);
  assert.ok(reach(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']]]), 'a.ts').has('c.ts'), 'negative control: a path of two imports is found');
});

test(`no host/ file is over ${MAX_LINES} lines`, () => {
  const long = sources('host').filter((f) => !f.includes('.generated.')).map((f) => [f, fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').length] as const)
    .filter(([, n]) => n > MAX_LINES);
  assert.equal(long, []);
});

test.run();
