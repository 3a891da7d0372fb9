// os.fork in CPython with two threads spinning (one thread in the child, its main one), and from a worker thread (tests/python/fork/threads.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['threads.py']);

test.run();
