// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): set and frozenset.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_set']);
