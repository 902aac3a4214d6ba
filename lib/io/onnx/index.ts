/**
 * ONNX import: {@link loadOnnx} reads a `.onnx` file into a trainable {@link OnnxModel} (an
 * `nn.Module`); {@link loadOnnxTensor} reads a serialized `TensorProto`.
 */
export { loadOnnx, loadOnnxTensor, OnnxModel, type OnnxValueInfo } from './model.js';
