#!/usr/bin/env node
// Writes build/python-lib.json: the tree of build/python-lib (the standard
// library and the command's bin/) as a page serves it — every directory, and
// every file with its size and modification time. A page's Python answers
// stat, listdir and the import system's directory scans from it and fetches a
// file's bytes only when it is opened (vms/python/host/served-files.ts). Left
// out: the `test` package (CPython's regression tests do not run in a page:
// they need subprocess) and __pycache__ (a page compiles from source).
// `node scripts/python-lib-index.mjs [--check]`: --check exits 1 when the index
// is missing or older than the tree. Run by `npm run build:python` after the build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerHelp } from './build-options.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(ROOT, 'build', 'python-lib');
const OUT = path.join(ROOT, 'build', 'python-lib.json');
const SKIP = new Set(['lib/python3.11/test', 'stamp']);

/** The index of `dir`: { dirs: [relative paths, '' first], files: { path: [size, mtime s] } }, newest mtime. */
function indexTree(dir) {
  const dirs = [''];
  const files = {};
  let newest = fs.statSync(dir).mtimeMs;
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (SKIP.has(p) || e.name === '__pycache__') continue;
      const st = fs.statSync(path.join(dir, p));
      newest = Math.max(newest, st.mtimeMs);
      if (st.isDirectory()) {
        dirs.push(p);
        walk(p);
      } else if (st.isFile()) {
        files[p] = [st.size, Math.floor(st.mtimeMs / 1000)];
      }
    }
  };
  walk('');
  return { index: { dirs, files }, newest };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  answerHelp(process.argv.slice(2), 'python-lib-index', 'writes build/python-lib.json, the index of the standard library a page serves',
    { args: { '--check': 'exit 1 when the index is missing or older than the tree; write nothing' } });
  if (!fs.existsSync(path.join(LIB, 'lib', 'python3.11', 'os.py'))) {
    // build:python skips itself without its toolchain (unless NEED_PYTHON is set): so does its index
    console.error(`${LIB}: no standard library (npm run build:python)${process.env.NEED_PYTHON ? '' : ': skipped'}`);
    process.exit(process.env.NEED_PYTHON ? 1 : 0);
  }
  const { index, newest } = indexTree(LIB);
  if (process.argv.includes('--check')) {
    const fresh = fs.existsSync(OUT) && fs.statSync(OUT).mtimeMs >= newest;
    process.exit(fresh ? 0 : 1);
  }
  fs.writeFileSync(OUT, JSON.stringify(index));
  console.log(`${path.relative(ROOT, OUT)}: ${index.dirs.length} directories, ${Object.keys(index.files).length} files`);
}
