// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): list, dict, tuple.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_list', 'test_dict', 'test_tuple']);
