// CPython's own test_concurrent_futures, run by its own runner through
// wasm-threads-python (tests/lib/python-regrtest.ts): its thread pools on real
// threads; its process pools skip themselves (docs/PYTHON.md "Threads").
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_concurrent_futures'], {
  // tearDownModule: multiprocessing.util._cleanup_tests imports multiprocessing.forkserver, whose resource tracker
  // imports _posixshmem, which WASI cannot have (no shm_open, no shm_unlink). Every test before it passed or skipped.
  // test_hang_global_shutdown_lock asks for a ProcessPoolExecutor with the 'fork' context, guarded only by
  // hasattr(os, 'fork'): os.fork exists (it refuses in this build, docs/PYTHON.md "fork"), and multiprocessing's
  // synchronize module cannot (no named semaphores), so the pool raises NotImplementedError.
  test_concurrent_futures: ['test.test_concurrent_futures', 'test.test_concurrent_futures.ThreadPoolExecutorTest.test_hang_global_shutdown_lock'],
});
