// os.fork in CPython runs os.register_at_fork's hooks in CPython's order, in the parent and in the child
// (tests/python/fork/hooks.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['hooks.py']);

test.run();
