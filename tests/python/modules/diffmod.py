# Imported through PYTHONPATH by tests/python-diff.test.ts.
VALUE = "from diffmod"
