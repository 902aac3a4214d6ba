/**
 * ONNX import and export: {@link loadOnnx} reads a `.onnx` file into a trainable {@link OnnxModel}
 * (an `nn.Module`); {@link loadOnnxTensor} reads a serialized `TensorProto`; {@link saveOnnx}
 * traces a model built from convkit's layers and writes it as ONNX ({@link exportOnnx} returns the
 * bytes; {@link saveStateDict} writes the weights alone as safetensors).
 */
export { loadOnnx, loadOnnxTensor, OnnxModel, type OnnxValueInfo } from './model.js';
export { exportOnnx, saveOnnx, saveStateDict, type OnnxExport, type SaveOnnxOptions } from './export.js';
