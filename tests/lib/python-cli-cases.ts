// The command lines of the differential suite (tests/python-cli*.test.ts): name, arguments, options.
import path from 'node:path';
import { PYTHON_PROGRAMS, type PythonRunOptions } from './python-run.js';

const prog = (name: string) => path.join(PYTHON_PROGRAMS, name);

export const CLI_CASES: Array<[string, string[], (PythonRunOptions & { normalize?: (e: string) => string })?]> = [
  ['-c with arguments', ['-c', 'import sys; print(sys.argv)', 'a', 'b c']],
  ['-c runtime error', ['-c', 'def f():\n    return 1/0\nf()']],
  ['-c syntax error', ['-c', 'print(1 +']],
  ['-c indentation error', ['-c', 'if True:\nprint(1)']],
  ['sys.exit(n)', [prog('argv_exit.py'), 'exit', '7']],
  ['sys.exit(message)', ['-c', 'import sys; sys.exit("goodbye")']],
  ['raise SystemExit(None)', ['-c', 'raise SystemExit']],
  ['uncaught exception traceback', [prog('argv_exit.py'), 'raise']],
  ['exception chain at top level', ['-c', 'try:\n  {}["k"]\nexcept KeyError as e:\n  raise RuntimeError("outer") from e']],
  ['-m a module', ['-m', 'json.tool', '--sort-keys'], { stdin: '{"b": [1, 2], "a": {"c": null}}' }],
  ['-m with a missing module', ['-m', 'no_such_module_xyz']],
  ['- reads the program from stdin', ['-', 'arg1'], { stdin: 'import sys\nprint("stdin", sys.argv)\n' }],
  ['no arguments, stdin not a terminal', [], { stdin: 'print(6 * 7)\nraise SystemExit(3)\n' }],
  // errno numbers are WASI's (docs/PYTHON.md): ENOENT is 44 there, 2 on Linux; the message is the same.
  ['missing script', ['no-such-script.py'], { normalize: (e) => e.replace('[Errno 44]', '[Errno 2]') }],
  ['unknown option', ['-Z']],
  ['-V', ['-V']],
  ['environment', ['-c', 'import os; print(os.environ["PYTHON_DIFF_VAR"], os.environ.get("NOPE"))']],
  ['-E ignores PYTHON* variables', ['-E', '-c', 'import sys; print(sys.flags.ignore_environment, sys.flags.optimize)'], { env: { PYTHONOPTIMIZE: '1' } }],
  ['-O and assert', ['-O', '-c', 'assert False, "x"; print("asserts off", __debug__)']],
  ['-W error', ['-W', 'error', '-c', 'import warnings; warnings.warn("careful")']],
  ['warnings on stderr', ['-c', 'import warnings; warnings.warn("careful", DeprecationWarning, stacklevel=1); warnings.warn("w2")']],
  ['-u and -B flags', ['-u', '-B', '-c', 'import sys; print(sys.flags.dont_write_bytecode, sys.stdout.line_buffering)']],
  ['-i with stdin', ['-i', '-c', 'x = 5'], { stdin: 'print(x * 2)\n' }],
  ['PYTHONPATH import', ['-c', 'import diffmod; print(diffmod.VALUE)'], { env: { PYTHONPATH: path.join(PYTHON_PROGRAMS, 'modules') } }],
];
