/**
 * `Sequential`: a chain of modules run one after the other, as `torch.nn.Sequential`. Children are
 * named `'0'`, `'1'`, ... so parameter names match PyTorch's (`features.0.weight`), and a child can be
 * swapped with `setChild('6', new Linear(4096, 5))` or `model.replaceModule('classifier.6', ...)`.
 */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { releaseDead } from '../../tensor/buffer-arena.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, moduleFromJSON, registerModuleType, type ModuleJSON } from '../module.js';

/**
 * Feeds `x` through `modules` in order. Inside a buffer-arena run (inference in the Predictor),
 * each intermediate output is handed back to the arena once the next module has consumed it, unless
 * it shares a buffer with that module's output or with `x` (lib/tensor/buffer-arena.ts).
 */
export function forwardChain(x: unknown, modules: readonly Module[]): unknown {
  let y: unknown = x;
  for (const m of modules) {
    const next = (m.forward as (this: Module, input: unknown) => unknown).call(m, y);
    if (y !== x && y instanceof Tensor && next instanceof Tensor) {
      if (x instanceof Tensor) releaseDead(y, next, x);
      else releaseDead(y, next);
    }
    y = next;
  }
  return y;
}

/** Runs its children in order, each on the previous one's output. */
export class Sequential extends Module implements Iterable<Module> {
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `module` at the end (named by its position); returns this Sequential. */
  append(module: Module): this {
    if (!(module instanceof Module)) throw invalidArgument(`module ${this.length} of Sequential`, 'a Module', module);
    this.registerModule(String(this.length), module);
    return this;
  }

  /** The number of children. */
  get length(): number {
    return this.namedChildren().length;
  }

  /**
   * The child at position `index` (negative counts from the end, as `Array.prototype.at`).
   * @throws ArgumentError when the index is not an integer in range.
   */
  at(index: number): Module {
    const children = this.children();
    if (typeof index !== 'number' || !Number.isInteger(index) || index < -children.length || index >= children.length) {
      throw new ArgumentError(`Sequential.at: index ${String(index)} is out of range for ${children.length} modules`);
    }
    return children[index < 0 ? index + children.length : index]!;
  }

  /** The children in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** Feeds `x` through every child in order (an empty Sequential returns `x`). */
  forward(x: Tensor): Tensor {
    return forwardChain(x, this.children()) as Tensor;
  }
}

registerModuleType('Sequential', Sequential, (_config, json: ModuleJSON) => {
  const children = Object.entries(json.children ?? {});
  children.forEach(([name], i) => {
    if (name !== String(i)) {
      throw new ArgumentError(`Sequential: children must be named '0', '1', ... in order, found '${name}' at position ${i}`);
    }
  });
  return new Sequential(...children.map(([, child]) => moduleFromJSON(child)));
});
