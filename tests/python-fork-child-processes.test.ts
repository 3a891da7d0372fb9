// A CPython fork child's own processes and pipes: subprocess from the child (a fresh interpreter and another program),
// a pipe between the child's threads (tests/python/fork/child_processes.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['child_processes.py']);

test.run();
