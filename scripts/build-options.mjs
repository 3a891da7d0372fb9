// The options of the project's build scripts (gen-abi, build-lua,
// build-python, posix-layer, asyncify-fork): their arguments and the
// environment variables they read (`npm run build` chains them, so a setting
// reaches one through the environment), declared once per script as a table
// with each one's default and what it does. `--help` prints that table before
// anything is built. These scripts run before TypeScript is compiled, so the
// commands' own flag parser (scripts/args.ts) is not available to them.

/**
 * @typedef {{ default: string, doc: string }} EnvOption  unset: `default`; '' reads as not set
 * @typedef {{ usage?: string, args?: Record<string, string>, env?: Record<string, EnvOption> }} OptionTable
 */

/**
 * Each environment option's value: the environment's, else its default.
 * @template {Record<string, EnvOption>} E
 * @param {E} env
 * @returns {{ [K in keyof E]: string }}
 */
export function envOptions(env) {
  return /** @type {any} */ (Object.fromEntries(Object.entries(env).map(([k, o]) => [k, process.env[k] ?? o.default])));
}

/**
 * When `argv` asks for `--help` (or `-h`): prints what `command` does and its options, and ends the process with 0.
 * @param {string[]} argv
 * @param {string} command
 * @param {string} about
 * @param {OptionTable} table
 */
export function answerHelp(argv, command, about, table) {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  const rows = [
    ...Object.entries(table.args ?? {}).map(([k, doc]) => [`  ${k}`, doc]),
    ...Object.entries(table.env ?? {}).map(([k, o]) => [`  ${k}=…`, o.default === '' ? o.doc : `${o.doc} (default: ${o.default})`]),
    ['  --help', 'this text'],
  ];
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const text = [`${command}: ${about}`, '', ...(table.usage ? [`usage: ${table.usage}`, ''] : []),
    'options:', ...rows.map(([l, r]) => l.padEnd(width) + r), ...(table.env ? ['', 'NAME=… options are read from the environment.'] : [])];
  process.stdout.write(text.join('\n') + '\n');
  process.exit(0);
}
