/**
 * How an op joins the tape. Every differentiable op computes its output with recording off, then
 * calls {@link record}: when recording is on and some input requires a gradient, the output gets a
 * {@link GradNode} holding the backward function, and `requiresGrad` is set on it.
 */
import type { Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from './grad-mode.js';
import { GradInput, GradNode, type BackwardFn } from './node.js';

let keepTensors = false;

/**
 * Runs `fn` with every recorded input kept on the tape (not only leaves), so that a tracer can read
 * the tensors an op consumed (the ONNX exporter). The setting is per thread (module state).
 */
export function withTapeTensors<T>(fn: () => T): T {
  const before = keepTensors;
  keepTensors = true;
  try {
    return fn();
  } finally {
    keepTensors = before;
  }
}

/** True when an op reading `inputs` must record: recording is on and some input requires grad. */
export function needsRecord(...inputs: ReadonlyArray<Tensor | null | undefined>): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t?.requiresGrad === true) return true;
  return false;
}

/**
 * Attaches a library op to `output` when {@link needsRecord} holds and returns `output`. `backward`
 * is called with `needs[i] = inputs[i].requiresGrad`; inputs that do not require grad are stored as
 * null so the tape does not keep them alive. The op's backward function keeps neither the gradient
 * it receives nor those it returns, so the engine may recycle their buffers once it has consumed
 * them (lib/tensor/recycled-buffers.ts).
 */
export function recordOp(
  name: string,
  output: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
): Tensor {
  return attach(name, output, inputs, backward, false);
}

/**
 * Attaches a custom op (user code) to `output` when {@link needsRecord} holds and returns `output`.
 * `backward` is called with `needs[i] = inputs[i].requiresGrad`; inputs that do not require grad are
 * stored as null so the tape does not keep them alive. The backward function may keep the gradient
 * it receives and those it returns (to log or plot them, say): the engine never reuses their
 * memory.
 */
export function record(
  name: string,
  output: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
): Tensor {
  return attach(name, output, inputs, backward, true);
}

function attach(
  name: string,
  output: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
  custom: boolean,
): Tensor {
  if (!needsRecord(...inputs)) return output;
  const kept = inputs.map((t) =>
    t?.requiresGrad === true ? new GradInput(t.gradFn, t.gradFn === null || keepTensors ? t : null, t.shape) : null,
  );
  output.setGradFn(new GradNode(name, kept, backward, custom));
  return output;
}
