/**
 * Layers and the module tree, exported from the package root as `nn` (as `torch.nn`): `Module`,
 * the built-in layers, `Sequential`, initialisers (`nn.init`) and `summary`.
 */
export * from './module.js';
export * from './layers/index.js';
export * as init from './init.js';
export * from './summary.js';
