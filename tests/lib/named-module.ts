// A small module with a name section, for the tests of host/wasm-names.ts and of the tiering a VM use names.
// wat2wasm --debug-names of
// (module (import "m" "f" (func $imported)) (func $first (export "a") (result i32) i32.const 1)
//   (func $second (export "b") (result i32) i32.const 2))
export const NAMED = Uint8Array.from(Buffer.from('0061736d010000000108026000006000017f020701016d01660000030302010107090201610001016200020a0b02040041010b040041020b002a046e616d65011a030008696d706f727465640105666972737402067365636f6e64020703000001000200', 'hex'));
