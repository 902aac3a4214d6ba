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

/**
 * One input of a recorded op, as the reverse sweep needs it: where its gradient goes. A leaf (a
 * parameter, a tensor the user made with requiresGrad) is kept, since its `.grad` receives the
 * gradient; an op's output is represented by its producer alone, so the tape does not keep its
 * buffer alive when the backward does not read it (a batch norm's output feeding a ReLU, both
 * operands of a residual add). While the ONNX exporter traces a model, every input is kept.
 */
export class GradInput {
  constructor(
    /** The op that produced the input; null for a leaf. */
    readonly gradFn: GradNode | null,
    /** The input itself: always for a leaf, for an op's output only while tracing for export. */
    readonly tensor: Tensor | null,
    /** The input's shape (the gradient returned for it must have as many elements). */
    readonly shape: readonly number[],
  ) {}

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export class GradNode {
  /** Op name, as in error messages and `t.gradFn.name` ("conv2d", "add", ...). */
  readonly name: string;
  /** Where the gradients of the op's inputs go; null for inputs that need no gradient. */
  readonly inputs: ReadonlyArray<GradInput | null>;
  private backwardFn: BackwardFn | null;
  /**
   * Recorded by user code (public `record`): its backward function may keep the gradients it sees,
   * so the engine never recycles them.
   */
  readonly custom: boolean;
  /** A non-leaf tensor whose gradient the user asked to keep (`retainGrad()`). */
  retained: Tensor | null = null;

  constructor(name: string, inputs: ReadonlyArray<GradInput | null>, backward: BackwardFn, custom = true) {
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
