// Where the modules linked against the core keep their memory. The core's
// fixed layout ends at LAYOUT_END (0x19000) and its static data follows; each
// linked module claims a fixed block above that, its static data placed after
// its control words by asc --memoryBase (asconfig.diag.json,
// asconfig.interp.json). Control words sit below memoryBase, outside every
// data segment, so instantiating a module on another thread (which re-applies
// its data segments) never resets shared state.
//
//   0x19000  core static data; the host checks core.heap_base() <= DIAG_BLOCK
//   0x1A000  diag.wasm: control words (+0x000), host scratch (+0x400),
//            static data from DIAG_DATA; diag_heap_base() <= INTERP_BLOCK
//   0x1C000  interp.wasm: tag counter, heap top (+0x000), type records
//            (+0x100, 8 × 1 KiB), static data from INTERP_DATA; the VM's heap
//            (programs, frames) from interp_heap_base() up
//
// The addresses are defined in abi/abi.json (section "linked modules"). Keep
// the memoryBase values in the asconfig files equal to DIAG_DATA and
// INTERP_DATA; tests check both against the modules' exports.

export { DIAG_BLOCK, DIAG_HOST_SCRATCH, DIAG_DATA, INTERP_BLOCK, INTERP_TYPES, INTERP_DATA } from "../layout";
