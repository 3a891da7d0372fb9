; Sums 1..100 in a loop (a back-edge: the safe point) and prints 5050.
.globals 1
        push 0          ; i
        push 0          ; sum
loop:   load 0
        push 100
        lt
        jz done
        load 0          ; i += 1
        push 1
        add
        store 0
        load 1          ; sum += i
        load 0
        add
        store 1
        jmp loop
done:   load 1
        dup
        gstore 0
        host print
        halt
