/**
 * The built-in layers, as `torch.nn` (PyTorch's class names, options in camelCase). Each is
 * registered for `toJSON()` / `moduleFromJSON()` under its PyTorch class name.
 */
export { Conv1d, Conv2d, Conv3d, type ConvLayerOptions } from './conv.js';
export { Linear, type LinearOptions } from './linear.js';
export {
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
  type MaxPoolLayerOptions,
  type AvgPoolLayerOptions,
} from './pool.js';
export {
  ReLU,
  LeakyReLU,
  ReLU6,
  Sigmoid,
  Tanh,
  GELU,
  Softmax,
  LogSoftmax,
  type LeakyReLUOptions,
  type GELUOptions,
  type SoftmaxLayerOptions,
} from './activation.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  LocalResponseNorm,
  type BatchNormLayerOptions,
  type LocalResponseNormLayerOptions,
} from './norm.js';
export { Dropout, Dropout2d } from './dropout.js';
export { Flatten, type FlattenLayerOptions } from './flatten.js';
export { Embedding, type EmbeddingLayerOptions } from './embedding.js';
export { LSTM, type LSTMOptions, type LSTMState } from './lstm.js';
export { Sequential } from './sequential.js';
export { Identity } from './identity.js';
