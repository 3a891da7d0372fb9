; Fork in a loop: each child continues from the fork with 0 and exits with
; 7 + i; the parent gets a pid, waits, and prints each child's status: 7 8 9.
        push 0              ; local 0: i
loop:   load 0
        push 3
        lt
        jz end
        host fork           ; child: 0, parent: the child's pid
        dup
        jz child
        host waitpid
        host print
        load 0
        push 1
        add
        store 0
        jmp loop
child:  pop
        load 0
        push 7
        add
        host exit
end:    halt
