/**
 * Elementwise arithmetic on two Float32Arrays of the same length: the TypeScript entry to the
 * native kernel (native/kernels/elementwise.h), threaded and vectorised. The broadcasting,
 * differentiable `add`/`sub`/`mul`/`div` are in lib/tensor/elementwise.ts, which hands the
 * same-shape case of large tensors (residual additions) to this.
 */
import { callNative } from '../native.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

const OP_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

interface ElementwiseNative {
  _binaryForward(op: number, a: Float32Array, b: Float32Array, y: Float32Array): void;
}

/**
 * Elements from which the native kernel pays off: below this, the JIT-compiled loop in JavaScript
 * finishes before a native call and a thread fork would.
 */
export const NATIVE_BINARY_MIN_ELEMENTS = 32 * 1024;

/**
 * `y[i] = a[i] op b[i]`, the correctly rounded float32 result (the same values as the JavaScript
 * loop). `y` must be a separate buffer of the same length (the binding checks lengths and overlap).
 */
export function binaryForward(op: BinaryOp, a: Float32Array, b: Float32Array, y: Float32Array): void {
  callNative((n) => (n as unknown as ElementwiseNative)._binaryForward(OP_CODES[op], a, b, y));
}
