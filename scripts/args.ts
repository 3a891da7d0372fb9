// The command-line options of the project's own commands, declared once per
// command as a table (each option's default and what it does), as the
// runtime's options are in host/options.ts: the parser, the types and
// `--help` all come from that table.

type Value = number | string | boolean;

/** One option: its default (which also gives its type) and a line saying what it does. */
export interface Arg<V extends Value = Value> {
  readonly default: V;
  readonly doc: string;
}

type Widen<V> = V extends boolean ? boolean : V extends number ? number : string;
export const arg = <V extends Value>(d: V, doc: string): Arg<Widen<V>> => ({ default: d as unknown as Widen<V>, doc });

export type ArgTable = Record<string, Arg>;
export type ArgValues<T extends ArgTable> = { -readonly [K in keyof T]: T[K]['default'] };

/** A table's defaults. */
export function defaultsOf<T extends ArgTable>(table: T): ArgValues<T> {
  return Object.fromEntries(Object.entries(table).map(([k, a]) => [k, a.default])) as ArgValues<T>;
}

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The `--help` text of a command: what it does, then each option with its default. */
export function usage(command: string, about: string, table: ArgTable): string {
  const rows = Object.entries(table).map(([k, a]) => {
    const kind = typeof a.default === 'boolean' ? '' : typeof a.default === 'number' ? ' N' : ' S';
    const d = typeof a.default === 'boolean' ? '' : ` (default: ${a.default === '' ? 'none' : String(a.default)})`;
    return [`  ${flag(k)}${kind}`, `${a.doc}${d}`];
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [`${command}: ${about}`, '', 'options:', ...rows.map(([l, r]) => l.padEnd(width) + r), `  --help`.padEnd(width) + 'this text'].join('\n');
}

/**
 * Parses `--name value` and `--flag` arguments against `table`. `--help` (or
 * `-h`) prints the usage and ends the process with 0.
 */
export function parseArgs<T extends ArgTable>(argv: string[], table: T, command: string, about: string): ArgValues<T> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage(command, about, table) + '\n');
    process.exit(0);
  }
  const out: Record<string, Value> = defaultsOf(table);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a} (--help lists the options)`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in table)) throw new Error(`unknown option: ${a} (known: ${Object.keys(table).map(flag).join(', ')}, --help)`);
    const d = table[key].default;
    if (typeof d === 'boolean') {
      out[key] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (typeof d === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${a} needs a number, got ${v}`);
      out[key] = n;
    } else {
      out[key] = v;
    }
  }
  return out as ArgValues<T>;
}
