/** The tensor library: the {@link Tensor} class and the functions that create and combine tensors. */
export { Tensor, type NestedArray } from './tensor.js';
export { tensor, zeros, ones, full, arange, type TensorData, type NumericArray, type CreateOptions } from './create.js';
export {
  Generator,
  manualSeed,
  defaultGenerator,
  rand,
  randn,
  DEFAULT_SEED,
  type GeneratorState,
  type RandomOptions,
} from './random.js';
export { reshape, view, flatten, transpose, permute, squeeze, unsqueeze, expand } from './layout.js';
export { cat, split, type DimOptions } from './concat.js';
export { neg, abs, exp, log, sqrt, pow } from './unary.js';
export { add, sub, mul, div } from './elementwise.js';
export { sum, mean, max, type Axis, type ReduceOptions } from './reduce.js';
export { matmul } from './matmul.js';
export { broadcastShapes, formatShape, type Shape, type ShapeArgs } from './shape.js';
