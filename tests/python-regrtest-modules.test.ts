// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): json, re, struct, itertools, functools, collections, math.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_json', 'test_re', 'test_struct', 'test_itertools', 'test_functools', 'test_collections', 'test_math'], {
  // It takes an importable _multiprocessing (built for concurrent.futures, docs/PYTHON.md "Inside the build") for
  // working processes; multiprocessing.Process cannot start one on WASI (its fork start method needs os.WNOHANG).
  test_re: ['test.test_re.ReTests.test_regression_gh94675'],
});
