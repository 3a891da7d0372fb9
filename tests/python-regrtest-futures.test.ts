// CPython's own test_concurrent_futures, run by its own runner through
// wasm-threads-python (tests/lib/python-regrtest.ts): its thread pools on real
// threads; its process pools skip themselves (docs/PYTHON.md "Threads").
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_concurrent_futures'], {
  // tearDownModule: multiprocessing.util._cleanup_tests imports multiprocessing.forkserver, whose resource tracker
  // imports _posixshmem, which WASI cannot have (no shm_open, no shm_unlink). Every test before it passed or skipped.
  test_concurrent_futures: ['test.test_concurrent_futures'],
});
