// CPython's own test_threading, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts) on real threads (docs/PYTHON.md "Threads"); its
// tests that start a fresh interpreter through subprocess skip themselves.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_threading'], {
  // Both wait for a subinterpreter's threads through os.pipe(), which WASI preview1 does not have (docs/PYTHON.md).
  test_threading: ['test.test_threading.SubinterpThreadingTests.test_threads_join', 'test.test_threading.SubinterpThreadingTests.test_threads_join_2'],
});
