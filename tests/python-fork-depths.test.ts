// os.fork in CPython under C frames: a sorted() key, map, __init__, __repr__, __del__, a generator, three calls deep, exec (tests/python/fork/depths.py; tests/lib/python-fork.ts).
import { test } from 'uvu';
import { forkProgramTests } from './lib/python-fork.js';

forkProgramTests(['depths.py']);

test.run();
