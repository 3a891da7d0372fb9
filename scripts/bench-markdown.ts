// docs/PERFORMANCE.md from one `npm run bench -- --json` result: every figure
// in the document is a number of that run, so the document cannot drift from
// a run. `npm run bench -- --markdown docs/PERFORMANCE.md` writes it after the
// run, with the result beside it (docs/PERFORMANCE.json, which a test renders
// and compares); `npm run bench -- --from saved.json --markdown …` writes it
// from a saved result. The rendering is generic (objects become
// metric tables, arrays of rows become tables), so a new section or field
// needs no change here; SECTION_NOTES only says what a section measures.

/** What each section measures, printed above its figures. */
export const SECTION_NOTES: Record<string, string> = {
  machine: 'The machine of the run.',
  builds: 'Sizes of the shipped builds in bytes, and gzip -9.',
  startup: 'What a program pays before it does anything: the `wasm-threads-lua -e \'\'` command (wall, beside `lua5.4 -e \'\'` ' +
    'and a bare `node -e 0`), and `createRuntime({ threads: 2 })` + `close()` in one process beside two bare Node workers ' +
    'started and terminated (their floor). Neither starts anything of fork. `tiering`: each VM command\'s start-up ' +
    '(`-e \'\'`, `-c pass`) and a loop\'s own ms in the tiering the command chooses (its interpreter loop compiled by ' +
    'TurboFan up front, the rest in Liftoff first) beside `--no-liftoff` (every function by TurboFan at its first call).',
  core: 'The core\'s exports called across the module boundary (diag.wasm imports them from "core", as an embedder ' +
    'does). `cmpxchg_pair_ns` is two raw Wasm CAS: the floor of an attach + detach. `stw`: stop + start as the ' +
    'requester sees it, workers spinning in Wasm and polling; `floor_p50_us` is a requester bumping a flag and ' +
    'spinning until every worker acknowledged, with the same workers.',
  seqlock: 'Cache reads, ns per read, each reader a worker; the writer rewrites the same entry non-stop. `torn` ' +
    'counts torn reads a validating reader saw.',
  fork: 'fork() under Node: round trip = `fork()` → the child restores, runs a continuation that returns 0, exits → ' +
    '`waitpid`; CPython 3.11 `os.fork` + `_exit` + `waitpid` with the same spinning threads and heap in the same run.',
  harness: 'The stress harness\'s default run as `npm start -- --json --compare-cpython` makes it (two interpreter ' +
    'threads, a mutator and a torn-read pair running while the main thread and a worker fork in a loop, each child ' +
    'checking its copy), each run a child process of the bench\'s Node with the harness\'s own tiering, three runs ' +
    '(one of 8 s with --quick). Per run: the fork round trip\'s p50/p90/p99 (fork → the child checks its copy and ' +
    'exits → `waitpid`), `forks_waited` (every fork that waited for its child, the warm-up\'s included), `cold_forks` ' +
    '(those among the measured forks), CPython\'s `os.fork` p50 with the same threads in that run, and ' +
    '`breakdown_ms`: per run, the mean of each part of the round trip over its measured forks (`all`) and over those at ' +
    'or above its p99 (`p99`): the part that grows there makes the tail. `across_runs`: min, median and ' +
    'max over the runs. Each `harness_*` target must hold on every run, not only on the median one.',
  interp: 'The reference interpreter: ns per instruction with the back-edge poll and with it compiled out, and an ' +
    'attribute load (the last of 16) through the inline cache and by the uncached probe.',
  embed: 'The C embedder calling the core across the module boundary (both links, and the header\'s inline ' +
    '`wtc_poll_fast`), beside the same calls from AssemblyScript and JS.',
  storm: 'A thread that keeps detaching and re-attaching under a storm of stops from two requesters.',
  python: 'CPython 3.11 on the core (`wasm-threads-python`) beside Debian\'s `python3.11` in the same run: the ' +
    'programs of scripts/bench_python.py (each round timed inside Python, processes interleaved) and, on the same ' +
    'programs, the fork variant (`WASM_THREADS_PYTHON_FORK=anywhere`) beside the threads build; start-up, sizes, the ' +
    'page and threads parts; `fork`: the fork variant\'s `os.fork` + `_exit` + `waitpid` round trip with 0/4 MiB of ' +
    'heap and 0/2 spinning threads beside native, and the pause those threads see (the longest stretch of a round ' +
    'trip in which no spinner finished a chunk; under the GIL it includes waiting for it).',
  browser: 'Stop + start and fork in Chromium and Firefox, and under Node, in one run, beside CPython\'s `os.fork`.',
  targets: 'Each target is a ratio or bound checked on the figures of this run.',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isRow = (v: Json): v is { [k: string]: Json } => !!v && typeof v === 'object' && !Array.isArray(v);
const scalar = (v: Json): v is null | boolean | number | string => v === null || typeof v !== 'object';
const cell = (v: Json): string => {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return `\`${JSON.stringify(v)}\``;
  return v.replace(/\|/g, '\\|');
};

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
}

/** A row with its nested objects as dotted columns (`breakdown.copy`). */
function flatten(r: { [k: string]: Json }, prefix = ''): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(r)) {
    if (isRow(v)) Object.assign(out, flatten(v, `${prefix}${k}.`));
    else out[prefix + k] = v;
  }
  return out;
}

/** One value under a heading of `depth`: scalars of an object in one table, each nested part under its own heading. */
function render(name: string, v: Json, depth: number): string[] {
  const h = `${'#'.repeat(Math.min(depth, 6))} ${name}`;
  if (scalar(v)) return [h, '', cell(v), ''];
  if (Array.isArray(v)) {
    if (v.length && v.every(isRow)) {
      const rows = v.map((r) => flatten(r as { [k: string]: Json }));
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return [h, '', ...table(cols.map((c) => `\`${c}\``), rows.map((r) => cols.map((c) => cell(r[c] ?? null))))];
    }
    return [h, '', v.map(cell).join(', '), ''];
  }
  const entries = Object.entries(v as { [k: string]: Json });
  const flat = entries.filter(([, x]) => scalar(x));
  // an object of like rows (e.g. build name → { bytes, gzip }) is one table
  const nested = entries.filter(([, x]) => !scalar(x));
  const likeRows = nested.length > 1 && nested.every(([, x]) => isRow(x) && Object.values(x).every(scalar));
  const out = [h, ''];
  if (flat.length) out.push(...table(['measure', 'value'], flat.map(([k, x]) => [`\`${k}\``, cell(x)])));
  if (likeRows) {
    const cols = [...new Set(nested.flatMap(([, x]) => Object.keys(x as object)))];
    out.push(...table(['', ...cols.map((c) => `\`${c}\``)], nested.map(([k, x]) => [`\`${k}\``, ...cols.map((c) => cell((x as Record<string, Json>)[c] ?? null))])));
  } else {
    for (const [k, x] of nested) out.push(...render(`\`${k}\``, x, depth + 1));
  }
  return out;
}

/** The whole document for one bench result. */
export function benchMarkdown(result: Record<string, Json>): string {
  const machine = result.machine as Record<string, Json> | undefined;
  const command = String(machine?.command ?? 'npm run bench -- --json');
  const out = [
    '# Performance',
    '',
    `Generated by \`scripts/bench-markdown.ts\` from one run of \`${command}\`: every figure below is a figure of`,
    'that run, and every ratio compares figures of that same run. Regenerate it from a run rather than editing it:',
    '`npm run bench -- --json --markdown docs/PERFORMANCE.md` (it writes the result beside it, `PERFORMANCE.json`), or',
    'from a saved result `npm run bench -- --from result.json --markdown docs/PERFORMANCE.md`. What each figure means',
    'is said in the section that produces it (`scripts/bench*.ts`).',
    '',
  ];
  const targets = result.targets;
  if (isRow(targets) && Object.keys(targets).length) {
    out.push('## Targets', '', SECTION_NOTES.targets, '');
    out.push(...table(['target', 'met'], Object.entries(targets).map(([k, x]) => [`\`${k}\``, cell(x)])));
  }
  for (const [name, v] of Object.entries(result)) {
    if (name === 'targets') continue;
    const body = render(`\`${name}\``, v, 2);
    if (SECTION_NOTES[name]) body.splice(2, 0, SECTION_NOTES[name], '');
    out.push(...body);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
