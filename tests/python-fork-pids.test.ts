// os.getpid()/os.getppid() in CPython's fork children: each process's own (tests/python/fork/pids.py), also three
// deep from a method on a thread (nested.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['pids.py', 'nested.py']);

test.run();
