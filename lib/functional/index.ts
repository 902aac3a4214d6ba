/**
 * The functional API, exported from the package root as `F`: named as `torch.nn.functional` in
 * camelCase, tensors positional as in PyTorch and keyword arguments in an options object with
 * PyTorch's names in camelCase (`F.conv2d(x, w, b, { stride: 2, padding: 'same' })`). Every
 * function is differentiable: it runs a native kernel forward and records its backward on the tape.
 */
export * from './conv.js';
export * from './pool.js';
export * from './norm.js';
export * from './activation.js';
export * from './loss.js';
export * from './dropout.js';
export * from './tensor-ops.js';
