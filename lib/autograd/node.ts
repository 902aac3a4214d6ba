/**
 * A node of the tape: the op that produced one tensor, the tensors it read, and the function that
 * turns the gradient of its output into gradients of its inputs.
 */
import type { Tensor } from '../tensor/tensor.js';

/**
 * Computes input gradients from the output gradient. `needs[i]` says whether input i wants a
 * gradient (so frozen weights cost nothing); entries not needed may be null. A returned gradient
 * must have its input's shape. It may alias `gradOutput` or another returned gradient: the engine
 * never writes into a gradient it did not allocate itself. The engine recycles the buffers of a
 * library op's gradients once it has consumed them, so a library op's backward function must keep
 * neither `gradOutput` nor what it returns; a custom op's (public `record`) may.
 */
export type BackwardFn = (gradOutput: Tensor, needs: readonly boolean[]) => ReadonlyArray<Tensor | null>;

export class GradNode {
  /** Op name, as in error messages and `t.gradFn.name` ("conv2d", "add", ...). */
  readonly name: string;
  /** The tensors the op read; null for inputs that need no gradient. */
  readonly inputs: ReadonlyArray<Tensor | null>;
  private backwardFn: BackwardFn | null;
  /**
   * Recorded by user code (public `record`): its backward function may keep the gradients it sees,
   * so the engine never recycles them.
   */
  readonly custom: boolean;
  /** A non-leaf tensor whose gradient the user asked to keep (`retainGrad()`). */
  retained: Tensor | null = null;

  constructor(name: string, inputs: ReadonlyArray<Tensor | null>, backward: BackwardFn, custom = true) {
    this.name = name;
    this.inputs = inputs;
    this.backwardFn = backward;
    this.custom = custom;
  }

  /** False once a backward pass without `retainGraph` went through this node. */
  get alive(): boolean {
    return this.backwardFn !== null;
  }

  /** Runs the backward function; the engine checks `alive` first. */
  apply(gradOutput: Tensor, needs: readonly boolean[]): ReadonlyArray<Tensor | null> {
    if (this.backwardFn === null) throw new Error(`internal: ${this.name} backward after release`);
    return this.backwardFn(gradOutput, needs);
  }

  /** Drops the backward function and everything it saved (activations, indices, ...). */
  release(): void {
    this.backwardFn = null;
  }
}
