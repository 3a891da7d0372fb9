// os.fork in CPython in a loop, every child reaped: waitpid, os.wait (the first child to exit), WNOHANG polling
// (tests/python/fork/loop.py, wait_first.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['loop.py', 'wait_first.py']);

test.run();
