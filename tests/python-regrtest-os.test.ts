// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): decimal, datetime and os (its non-fork parts).
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_decimal', 'test_datetime', 'test_os'], {
  // os.utime(path) without times sets the epoch, not the current time (docs/PYTHON.md, "Differences").
  test_os: ['test.test_os.UtimeTests.test_utime_current', 'test.test_os.UtimeTests.test_utime_current_old'],
});
