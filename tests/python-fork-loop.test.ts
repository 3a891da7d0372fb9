// os.fork in CPython in a loop, every child reaped: waitpid, os.wait, WNOHANG polling (tests/python/fork/loop.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['loop.py']);

test.run();
