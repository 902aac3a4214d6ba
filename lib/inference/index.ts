/**
 * Inference off the main thread: {@link Predictor} (a model's forward pass in a worker thread,
 * with an inline fallback), {@link predict} (the cached one-call form) and {@link predictFolder}
 * (classify a folder of images into a resumable JSONL/CSV file).
 */
export {
  Predictor,
  type ClassScore,
  type Classification,
  type ClassifyOptions,
  type PredictorMode,
  type PredictorOptions,
} from './predictor.js';
export { predict, predictor, releasePredictor } from './predict.js';
export {
  predictFolder,
  type PredictFolderOptions,
  type PredictFolderProgress,
  type PredictFolderResult,
} from './predict-folder.js';
export { type OutputFormat, type ResultRow } from './results-file.js';
