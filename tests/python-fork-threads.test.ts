// os.fork in CPython with two threads spinning (one thread in the child, its main one), and from a worker thread (tests/python/fork/threads.py); with a thread blocked reading stdin, whose line comes after the fork (blocked_read.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['threads.py', { program: 'blocked_read.py', answer: { after: 'child exit', stdin: 'hello\n' } }]);

test.run();
