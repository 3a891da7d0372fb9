; Calls: prints 10! computed recursively.
        push 10
        call fact
        host print
        halt
; fact(n): the argument sits just below the frame (fp - 3)
fact:   enter 1             ; local 0 = n
        load -3
        store 0
        load 0
        push 2
        lt
        jz recurse
        push 1
        ret
recurse:
        load 0
        push 1
        sub
        call fact
        load 0
        mul
        ret
