// os._exit from a thread of a CPython fork child other than its main one ends the child with that status, and its
// carrier serves the next fork (tests/python/fork/child_thread_exit.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['child_thread_exit.py']);

test.run();
