/** File formats: safetensors read/write, ONNX and TF.js layers-model import, crash-safe file replacement. */
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
export { loadOnnx, OnnxModel } from './onnx/index.js';
export { loadTfjsLayers, TfjsModel } from './tfjs/index.js';
