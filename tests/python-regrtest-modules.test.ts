// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): json, re, struct, itertools, functools, collections, math.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_json', 'test_re', 'test_struct', 'test_itertools', 'test_functools', 'test_collections', 'test_math'], {
  // It takes an importable _multiprocessing (built for concurrent.futures, docs/PYTHON.md "Inside the build") for
  // working processes; multiprocessing.Process's fork start method calls os.fork, which this build refuses.
  test_re: ['test.test_re.ReTests.test_regression_gh94675'],
  // json.tool's child exits with EPIPE when its reader closed the pipe: the command's stdout never reports a broken
  // pipe (docs/PYTHON.md "Differences").
  test_json: ['test.test_json.test_tool.TestTool.test_broken_pipe_error'],
});
