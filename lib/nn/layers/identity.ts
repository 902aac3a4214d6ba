/** `Identity`: returns its input unchanged, as `torch.nn.Identity` (a placeholder, e.g. a removed head). */
import { invalidArgument } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, registerModuleType } from '../module.js';

/** Returns the input itself (no copy, no op on the tape). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of Identity', 'a Tensor', x);
    return x;
  }
}

registerModuleType('Identity', Identity, () => new Identity());
