; Attribute cache under mutation: a mutator thread stores attribute 1 of type 2
; a hundred times (each store gives the type a new version tag) while the main
; thread reads it through the inline cache; the main thread prints the last
; value it reads after joining the mutator: 100.
        push 2
        push 0
        store_attr 1
        push mutator
        push 100
        host spawn
read:   push 2
        load_attr 1
        push 100
        eq
        jz read
        host join
        pop
        push 2
        load_attr 1
        host print
        halt
; mutator(n): stores 1..n
mutator:
        push 0              ; local 1: k
next:   load 1
        load 0
        lt
        jz fin
        load 1
        push 1
        add
        store 1
        push 2
        load 1
        store_attr 1
        jmp next
fin:    push 0
        halt
