// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): exceptions, generators and coroutines.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_exceptions', 'test_generators', 'test_coroutines'], {
  // A fresh interpreter that runs asyncio.run: asyncio's event loop needs socket.socketpair(), which WASI preview1
  // does not have (docs/PYTHON.md "Differences").
  test_coroutines: ['test.test_coroutines.UnawaitedWarningDuringShutdownTest.test_unawaited_warning_during_shutdown'],
});
