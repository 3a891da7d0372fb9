; Threads + lock: two threads each add 1 to global 0 a thousand times, with a
; plain read-modify-write under lock 0; the main thread joins both and prints 2000.
.globals 1
        push worker
        push 1000
        host spawn          ; -> thread A
        push worker
        push 1000
        host spawn          ; -> thread B
        host join           ; B's result
        pop
        host join           ; A's result
        pop
        gload 0
        host print
        halt
; worker(n): its argument is local 0
worker: load 0
        jz done
        lock 0
        gload 0
        push 1
        add
        gstore 0
        unlock 0
        load 0
        push 1
        sub
        store 0
        jmp worker
done:   push 0
        halt
