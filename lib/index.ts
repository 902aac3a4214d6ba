/**
 * convkit: a deep-learning runtime for Node.js. This is the package root; everything public is
 * exported from here.
 */
export * from './errors.js';
export * from './runtime.js';
export { gemm, type GemmOptions } from './ops/gemm.js';
export * from './tensor/index.js';
export * from './autograd/index.js';
export * as F from './functional/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as report from './report/index.js';
export * as inference from './inference/index.js';
export * as io from './io/index.js';
export * as transfer from './transfer/index.js';
export { predict, predictFolder, Predictor } from './inference/index.js';

export { version } from './version.js';
