// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): the grammar and the built-in scalar types.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_grammar', 'test_types', 'test_int', 'test_float', 'test_unicode']);
