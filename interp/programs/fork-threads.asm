; Fork while a thread runs: a spinner increments global 0; once it passed 100
; the main thread forks. In the child no spinner exists, so global 0 stays
; frozen across a sleep: the child exits 1 when it does. The parent prints that
; status (1), stops the spinner through global 1 and joins it.
.globals 2
        push spinner
        push 0
        host spawn          ; -> spinner thread
wait:   gload 0
        push 100
        lt
        jz forkit
        jmp wait
forkit: host fork
        dup
        jz child
        host waitpid
        host print
        push 1
        gstore 1            ; stop the spinner
        host join
        pop
        halt
child:  pop
        gload 0
        push 20
        host sleep
        gload 0
        eq
        host exit
spinner:
        gload 1
        jz spin
        push 0
        halt
spin:   push 1
        gadd 0
        pop
        jmp spinner
