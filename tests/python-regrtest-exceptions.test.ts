// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): exceptions, generators and coroutines.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_exceptions', 'test_generators', 'test_coroutines']);
