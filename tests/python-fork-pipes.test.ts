// Pipes across os.fork (tests/python/fork/pipes.py; tests/lib/python-fork.ts): a child's inherited pipe descriptors
// reach its parent's pipes, both ways, through a thread's fork and a grandchild, as under Debian's python3.11.
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['pipes.py']);

test.run();
