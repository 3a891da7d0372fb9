// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): decimal, datetime and os (its non-fork parts).
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_decimal', 'test_datetime', 'test_os'], {
  // os.utime(path) without times sets the epoch, not the current time (docs/PYTHON.md, "Differences").
  test_os: ['test.test_os.UtimeTests.test_utime_current', 'test.test_os.UtimeTests.test_utime_current_old',
    // WASI has no dup and no close-on-exec flag: os.dup fails with ENOTSUP, os.get_inheritable is always False and
    // never fails, not even on a closed descriptor.
    'test.test_os.FDInheritanceTests.test_dup', 'test.test_os.FDInheritanceTests.test_dup_standard_stream',
    'test.test_os.FDInheritanceTests.test_get_set_inheritable', 'test.test_os.FDInheritanceTests.test_get_set_inheritable_badf'],
});
