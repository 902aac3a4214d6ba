/**
 * `LSTM`: a multi-layer long short-term memory network, as `torch.nn.LSTM` (CNN+LSTM for video,
 * sequence heads over convolutional features). For each time step t, per layer and direction:
 *
 * ```
 * i = sigmoid(W_ii x_t + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x_t + b_if + W_hf h + b_hf)
 * g = tanh(W_ig x_t + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x_t + b_io + W_ho h + b_ho)
 * c = f * c + i * g                                 h = o * tanh(c)
 * ```
 *
 * Parameters have PyTorch's names and layouts, so a PyTorch state dict loads by name:
 * `weight_ih_l{k}` `[4 hidden, in]`, `weight_hh_l{k}` `[4 hidden, hidden]`, `bias_ih_l{k}` and
 * `bias_hh_l{k}` `[4 hidden]`, gates stacked in the order i, f, g, o, with a `_reverse` suffix for
 * the backward direction of a bidirectional LSTM. All start U(-1/√hidden, 1/√hidden), as PyTorch.
 *
 * The network is built from differentiable ops, so autograd (backpropagation through time) needs
 * nothing special: the input projection of every time step is one matrix product per layer and
 * direction (`F.linear` over [T, N, in]), then each step does one `[N, hidden] x [hidden, 4 hidden]`
 * product and the gate arithmetic. Cutting the projection into time steps goes through a binary
 * tree of splits, so the backward of the cuts costs O(T log T) rather than O(T^2) (each piece of a
 * split hands back a gradient the size of what it was cut from).
 *
 * Differs from PyTorch: no `projSize`; the input is a padded tensor (no packed sequences).
 */
import { ShapeError, invalidArgument } from '../../errors.js';
import { sigmoid, tanh } from '../../functional/activation.js';
import { dropout } from '../../functional/dropout.js';
import { linear } from '../../functional/tensor-ops.js';
import { cat, split } from '../../tensor/concat.js';
import { zeros } from '../../tensor/create.js';
import { add, mul } from '../../tensor/elementwise.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { uniform_, type InitOptions } from '../init.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { bool, configAs, layerOptions, positiveInt, probability } from './args.js';

/** Options of {@link LSTM}, PyTorch's in camelCase. */
export interface LSTMOptions {
  /** Stacked layers (default 1); layer k > 0 reads the output of layer k - 1. */
  numLayers?: number;
  /** Use the biases `bias_ih` and `bias_hh` (default true). */
  bias?: boolean;
  /** Input and output are `[N, T, features]` instead of `[T, N, features]` (default false). */
  batchFirst?: boolean;
  /** Dropout on the output of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Also run each layer backwards in time and concatenate both outputs (default false). */
  bidirectional?: boolean;
}

/** The hidden and cell state `[h, c]`, each `[numLayers * numDirections, N, hidden]` (or without N). */
export type LSTMState = [h: Tensor, c: Tensor];

/** The parameters of one layer and direction. */
interface Cell {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
}

/**
 * Cuts `x` `[T, ...]` into its T time steps `[1, ...]` through a binary tree of splits along dim 0:
 * each split piece's backward returns a gradient of its parent's size, so halving keeps the
 * backward at about 3 T log2(T) step-sized copies instead of T^2. Forward pieces are views.
 */
function timeSteps(x: Tensor): Tensor[] {
  const n = x.shape[0] as number;
  if (n === 1) return [x];
  if (n <= 2) return split(x, 1, { dim: 0 });
  const half = Math.ceil(n / 2);
  const [a, b] = split(x, [half, n - half], { dim: 0 }) as [Tensor, Tensor];
  return [...timeSteps(a), ...timeSteps(b)];
}

/** A multi-layer LSTM over a sequence: `forward(x, [h0, c0]?)` returns `[output, [hN, cN]]`. */
export class LSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** cells[layer][direction]. */
  readonly #cells: Cell[][] = [];

  constructor(inputSize: number, hiddenSize: number, options?: LSTMOptions) {
    super();
    const o = layerOptions('LSTM', options, ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional']);
    this.inputSize = positiveInt('LSTM', 'inputSize', inputSize);
    this.hiddenSize = positiveInt('LSTM', 'hiddenSize', hiddenSize);
    this.numLayers = positiveInt('LSTM', 'numLayers', o['numLayers'] ?? 1);
    this.bias = bool('LSTM', 'bias', o['bias'], true);
    this.batchFirst = bool('LSTM', 'batchFirst', o['batchFirst'], false);
    this.dropout = probability('LSTM', 'dropout', o['dropout'], 0);
    this.bidirectional = bool('LSTM', 'bidirectional', o['bidirectional'], false);
    const h = this.hiddenSize;
    const directions = this.bidirectional ? 2 : 1;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const inSize = layer === 0 ? this.inputSize : h * directions;
      const row: Cell[] = [];
      for (let d = 0; d < directions; d++) {
        const suffix = `l${layer}${d === 1 ? '_reverse' : ''}`;
        // PyTorch's registration order (and so state dict order): w_ih, w_hh, b_ih, b_hh per cell.
        row.push({
          weightIh: this.registerParameter(`weight_ih_${suffix}`, zeros([4 * h, inSize])),
          weightHh: this.registerParameter(`weight_hh_${suffix}`, zeros([4 * h, h])),
          biasIh: this.bias ? this.registerParameter(`bias_ih_${suffix}`, zeros([4 * h])) : null,
          biasHh: this.bias ? this.registerParameter(`bias_hh_${suffix}`, zeros([4 * h])) : null,
        });
      }
      this.#cells.push(row);
    }
    this.resetParameters();
  }

  /** PyTorch's default: every weight and bias U(-1/√hidden, 1/√hidden). */
  resetParameters(options: InitOptions = {}): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -bound, bound, options);
  }

  /**
   * Runs the sequence `x`: `[T, N, inputSize]` (`[N, T, inputSize]` with `batchFirst`) or unbatched
   * `[T, inputSize]`. `state` is `[h0, c0]`, each `[numLayers * numDirections, N, hiddenSize]`
   * (`[numLayers * numDirections, hiddenSize]` unbatched); zeros when omitted. Returns the last
   * layer's output at every step, `[T, N, numDirections * hiddenSize]` (batch first with
   * `batchFirst`), and the final `[hN, cN]` of every layer and direction, ordered as PyTorch
   * (layer 0 forward, layer 0 reverse, layer 1 forward, ...).
   */
  forward(x: Tensor, state?: LSTMState | null): [Tensor, LSTMState] {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of LSTM', 'a Tensor', x);
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== this.inputSize) {
      const layout = this.batchFirst ? '[N, T, inputSize]' : '[T, N, inputSize]';
      throw new ShapeError(
        `${this.describe()}: expected a 3-d input ${layout} or a 2-d unbatched input [T, inputSize] with inputSize = ${this.inputSize}, received shape ${formatShape(x.shape)}`,
      );
    }
    const unbatched = x.ndim === 2;
    // Time-major [T, N, features] from here on.
    let seq = unbatched ? x.unsqueeze(1) : this.batchFirst ? x.transpose(0, 1) : x;
    const steps = seq.shape[0] as number;
    const batch = seq.shape[1] as number;
    if (steps === 0 || batch === 0) {
      throw new ShapeError(`${this.describe()}: expected a non-empty sequence and batch, received input shape ${formatShape(x.shape)}`);
    }
    const directions = this.bidirectional ? 2 : 1;
    const initial = this.#initialState(state, unbatched, batch, directions);

    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let d = 0; d < directions; d++) {
        const k = layer * directions + d;
        const [out, h, c] = this.#runDirection(this.#cells[layer]![d]!, seq, d === 1, initial?.h[k] ?? null, initial?.c[k] ?? null);
        outputs.push(out);
        hN.push(h.unsqueeze(0));
        cN.push(c.unsqueeze(0));
      }
      seq = outputs.length === 1 ? outputs[0]! : cat(outputs, { dim: 2 });
      if (layer < this.numLayers - 1 && this.dropout > 0 && this.training) seq = dropout(seq, { p: this.dropout, training: true });
    }
    let output = seq;
    let h = cat(hN, { dim: 0 });
    let c = cat(cN, { dim: 0 });
    if (unbatched) {
      output = output.squeeze(1);
      h = h.squeeze(1);
      c = c.squeeze(1);
    } else if (this.batchFirst) {
      output = output.transpose(0, 1);
    }
    return [output, [h, c]];
  }

  /** Checks `[h0, c0]` and cuts them into one `[N, hidden]` state per layer and direction. */
  #initialState(state: LSTMState | null | undefined, unbatched: boolean, batch: number, directions: number): { h: Tensor[]; c: Tensor[] } | null {
    if (state === undefined || state === null) return null;
    if (!Array.isArray(state) || state.length !== 2) throw invalidArgument('the state of LSTM', 'an array [h0, c0] of two Tensors', state);
    const count = this.numLayers * directions;
    const expected = unbatched ? [count, this.hiddenSize] : [count, batch, this.hiddenSize];
    const pieces = (t: unknown, name: string): Tensor[] => {
      if (!(t instanceof Tensor)) throw invalidArgument(`${name} of LSTM`, 'a Tensor', t);
      if (t.ndim !== expected.length || t.shape.some((n, i) => n !== expected[i])) {
        throw new ShapeError(`${this.describe()}: expected ${name} of shape ${formatShape(expected)}, received ${formatShape(t.shape)}`);
      }
      const full = unbatched ? t.unsqueeze(1) : t;
      return count === 1 ? [full.reshape(batch, this.hiddenSize)] : split(full, 1, { dim: 0 }).map((p) => p.reshape(batch, this.hiddenSize));
    };
    return { h: pieces(state[0], 'h0'), c: pieces(state[1], 'c0') };
  }

  /**
   * One layer in one direction over `seq` `[T, N, in]`: returns the outputs `[T, N, hidden]` (in
   * time order even when running backwards) and the final h and c `[N, hidden]`.
   */
  #runDirection(cell: Cell, seq: Tensor, reverse: boolean, h0: Tensor | null, c0: Tensor | null): [Tensor, Tensor, Tensor] {
    const hidden = this.hiddenSize;
    const steps = seq.shape[0] as number;
    const batch = seq.shape[1] as number;
    // The input projection of every step at once: [T, N, 4 hidden].
    const projected = timeSteps(linear(seq, cell.weightIh, cell.biasIh));
    const outputs = new Array<Tensor>(steps);
    let h = h0;
    let c = c0;
    for (let s = 0; s < steps; s++) {
      const t = reverse ? steps - 1 - s : s;
      const xPart = projected[t]!.reshape(batch, 4 * hidden);
      let gates: Tensor;
      if (h === null) gates = cell.biasHh === null ? xPart : add(xPart, cell.biasHh); // h = 0: W_hh h vanishes
      else gates = add(xPart, linear(h, cell.weightHh, cell.biasHh));
      const [gi, gf, gg, go] = split(gates, hidden, { dim: 1 }) as [Tensor, Tensor, Tensor, Tensor];
      const i = sigmoid(gi);
      const g = tanh(gg);
      const o = sigmoid(go);
      c = c === null ? mul(i, g) : add(mul(sigmoid(gf), c), mul(i, g));
      h = mul(o, tanh(c));
      outputs[t] = h.unsqueeze(0);
    }
    return [cat(outputs, { dim: 0 }), h!, c!];
  }

  override config(): { [key: string]: JsonValue } {
    return {
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      numLayers: this.numLayers,
      bias: this.bias,
      batchFirst: this.batchFirst,
      dropout: this.dropout,
      bidirectional: this.bidirectional,
    };
  }

  /** `LSTM(10, 20, numLayers=2, batchFirst=true)`; defaults are left out. */
  override describe(): string {
    const parts = [String(this.inputSize), String(this.hiddenSize)];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return `LSTM(${parts.join(', ')})`;
  }
}

registerModuleType('LSTM', LSTM, (config) => {
  const { inputSize, hiddenSize, ...rest } = configAs<LSTMOptions & { inputSize: number; hiddenSize: number }>(config);
  return new LSTM(inputSize, hiddenSize, rest);
});
