// CPython's own thread tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts) on real threads: _thread, threading.local and
// queue. can_start_thread() is true on this platform (docs/PYTHON.md "Threads").
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_thread', 'test_threading_local', 'test_queue']);
