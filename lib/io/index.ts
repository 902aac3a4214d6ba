/** File formats: safetensors read/write and crash-safe file replacement. */
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
