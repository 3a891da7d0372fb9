// A CPython fork child starts threads of its own, joins them, and forks again from one (tests/python/fork/child_threads.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['child_threads.py']);

test.run();
