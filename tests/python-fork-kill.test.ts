// os.kill of a CPython fork child with SIGTERM and SIGKILL, its status signalled (tests/python/fork/kill.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['kill.py']);

test.run();
