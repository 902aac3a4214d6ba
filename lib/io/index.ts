/** File formats: safetensors read/write, ONNX import and export, TF.js layers-model import, crash-safe file replacement. */
export {
  loadSafetensors,
  saveSafetensors,
  parseSafetensors,
  parseSafetensorsHeader,
  serializeSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsFile,
  type SafetensorsEntry,
  type SafetensorsDtype,
} from './safetensors.js';
export { writeFileAtomic } from './atomic-write.js';
export { loadOnnx, loadOnnxTensor, OnnxModel, saveOnnx, exportOnnx, saveStateDict } from './onnx/index.js';
export { loadTfjsLayers, tfjsLayersFromMemory, TfjsModel } from './tfjs/index.js';
