# The exception tag clang's lowering of longjmp throws and setjmp catches
# (__builtin_wasm_throw(1, ...)): defined here so it is no import.
.globl __c_longjmp
.tagtype __c_longjmp i32
__c_longjmp:
