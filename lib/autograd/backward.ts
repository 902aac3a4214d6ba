/**
 * The reverse sweep: from a tensor back through the tape, once, in reverse topological order.
 * Gradients of tensors used several times (a shared weight, both branches of a residual block) are
 * summed, so the gradient of a convolution filter is the sum over every position it touched.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { allocateUninitialized, formatShape } from '../tensor/shape.js';
import { recordAllocations, recycle } from '../tensor/recycled-buffers.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './grad-mode.js';
import type { GradNode } from './node.js';

export interface BackwardOptions {
  /** Keep the tape so backward can run through it again (default false: the tape is freed). */
  retainGraph?: boolean;
}

/** a + b into a new tensor (neither input is written: either may be shared). */
function sumInto(a: Tensor, b: Tensor): Tensor {
  const out = allocateUninitialized(a.data.length, 'backward');
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < out.length; i++) out[i] = (x[i] as number) + (y[i] as number);
  return new Tensor(out, a.shape);
}

/**
 * Adds `g` into the leaf's `.grad`. The first gradient is adopted without a copy when `owned` (no
 * other tensor can see its buffer), else copied; later ones are added in place.
 */
function accumulateLeaf(leaf: Tensor, g: Tensor, owned: boolean): void {
  const existing = leaf.grad;
  if (existing === null) {
    leaf.grad = new Tensor(owned ? g.data : g.data.slice(), leaf.shape);
    return;
  }
  const d = existing.data;
  const s = g.data;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + (s[i] as number);
}

/** Nodes reachable from `root`, each after every node that consumes it (reverse topological order). */
function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>([root]);
  // Iterative post-order DFS: deep networks must not overflow the JS stack.
  const stack: Array<{ node: GradNode; next: number }> = [{ node: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const inputs = top.node.inputs;
    if (top.next < inputs.length) {
      const child = inputs[top.next++]?.gradFn ?? null;
      if (child !== null && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order.reverse();
}

/** Runs backpropagation from `root`. See {@link Tensor.backward}. */
export function backward(root: Tensor, gradOutput?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new ArgumentError(
      'backward: the tensor does not require grad and has no gradFn (was it computed inside noGrad(), or from tensors without requiresGrad?)',
    );
  }
  let seed: Tensor;
  if (gradOutput === undefined) {
    if (root.size !== 1) {
      throw new ShapeError(
        `backward: a gradient can be created implicitly only for a one-element tensor, but this one has shape ${formatShape(root.shape)}; pass backward(gradOutput)`,
      );
    }
    seed = new Tensor(Float32Array.of(1), root.shape);
  } else {
    if (!(gradOutput instanceof Tensor)) throw new ArgumentError('backward: gradOutput must be a Tensor');
    if (gradOutput.size !== root.size || gradOutput.shape.length !== root.shape.length || gradOutput.shape.some((d, i) => d !== root.shape[i])) {
      throw new ShapeError(`backward: gradOutput has shape ${formatShape(gradOutput.shape)} but the tensor has shape ${formatShape(root.shape)}`);
    }
    seed = gradOutput;
  }
  const start = root.gradFn;
  if (start === null) {
    accumulateLeaf(root, seed, false);
    return;
  }
  const retain = options.retainGraph ?? false;
  noGrad(() => recordAllocations((allocated) => {
    // Ownership of gradient buffers, for recycling (lib/tensor/recycled-buffers.ts): how many
    // pending gradients (views included) each buffer backs, and the buffers that must outlive the
    // pass (the seed, leaf gradients adopted without a copy).
    const refs = new Map<ArrayBufferLike, number>();
    const pinned = new Set<ArrayBufferLike>([seed.data.buffer]);
    const hold = (t: Tensor): void => {
      refs.set(t.data.buffer, (refs.get(t.data.buffer) ?? 0) + 1);
    };
    const drop = (t: Tensor): void => {
      const b = t.data.buffer;
      const n = (refs.get(b) ?? 0) - 1;
      if (n > 0) {
        refs.set(b, n);
        return;
      }
      refs.delete(b);
      if (allocated.has(b) && !pinned.has(b)) recycle(b);
    };
    const order = topoOrder(start);
    const grads = new Map<GradNode, Tensor>([[start, seed]]);
    hold(seed);
    for (const node of order) {
      const g = grads.get(node);
      grads.delete(node);
      if (g === undefined) continue; // no path carried a gradient here
      if (!node.alive) {
        throw new ArgumentError(
          `backward: the graph through '${node.name}' was already freed by an earlier backward(); pass backward(undefined, { retainGraph: true }) the first time to backpropagate through it twice`,
        );
      }
      if (node.retained !== null) accumulateLeaf(node.retained, g, false);
      const needs = node.inputs.map((t) => t !== null);
      const inputGrads = node.apply(g, needs);
      if (!retain) node.release();
      // A returned gradient may be adopted by a leaf only if nothing else can see its buffer: not
      // the incoming gradient, not the user's seed, not another gradient of this call, and the
      // whole buffer (not a view into a larger one).
      const uses = new Map<ArrayBufferLike, number>();
      for (const t of inputGrads) if (t !== null) uses.set(t.data.buffer, (uses.get(t.data.buffer) ?? 0) + 1);
      const owns = (t: Tensor): boolean =>
        t.data.buffer !== g.data.buffer && t.data.buffer !== seed.data.buffer && uses.get(t.data.buffer) === 1 &&
        t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength;
      // Every returned gradient holds its buffer until it is placed, summed or accumulated, so a
      // buffer two of them share is not recycled when the first is done with.
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i] ?? null;
        if (input !== null && gi !== null) hold(gi);
      });
      if (node.custom) {
        pinned.add(g.data.buffer);
        for (const t of inputGrads) if (t !== null) pinned.add(t.data.buffer);
      }
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i] ?? null;
        if (input === null || gi === null) return;
        if (gi.size !== input.size) {
          throw new Error(`internal: ${node.name} backward returned a gradient of shape ${formatShape(gi.shape)} for an input of shape ${formatShape(input.shape)}`);
        }
        const producer = input.gradFn;
        if (producer === null) {
          const leaf = input.tensor as Tensor; // a leaf's edge always keeps the leaf
          const adopt = leaf.grad === null && owns(gi);
          accumulateLeaf(leaf, gi, adopt);
          if (adopt) pinned.add(gi.data.buffer);
          drop(gi);
        } else {
          const prev = grads.get(producer);
          if (prev === undefined) {
            grads.set(producer, gi); // keeps the hold
          } else {
            const sum = sumInto(prev, gi);
            hold(sum);
            grads.set(producer, sum);
            drop(prev);
            drop(gi);
          }
        }
      });
      drop(g);
    }
  }));
}
