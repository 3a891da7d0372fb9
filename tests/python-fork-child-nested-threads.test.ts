// In a CPython fork child, a thread started by a thread other than the child's main one starts at once
// (tests/python/fork/child_nested_threads.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['child_nested_threads.py']);

test.run();
