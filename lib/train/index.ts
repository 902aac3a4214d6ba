/**
 * Training: the `fit` loop, checkpoints (one atomic `.safetensors` file each), callbacks (early
 * stopping, checkpointing, user hooks), metrics and progress output.
 */
export { fit, type FitOptions, type FitResult } from './fit.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  restoreTraining,
  sidecarPath,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  OPTIMIZER_PREFIX,
  type CheckpointMeta,
  type CheckpointState,
  type LoadedCheckpoint,
  type LoadCheckpointOptions,
  type LoaderPosition,
  type OptimizerMeta,
  type RestoredTraining,
} from './checkpoint.js';
export {
  earlyStopping,
  checkpoint,
  hooks,
  type Callback,
  type CheckpointCallback,
  type CheckpointCallbackOptions,
  type EarlyStoppingOptions,
  type EpochRecord,
  type BatchEndInfo,
  type FitContext,
  type MonitorName,
} from './callbacks.js';
export { accuracy, topKAccuracy, topKCorrect, type MetricName, type MetricSums } from './metrics.js';
export { createProgress, type Progress, type ProgressMode, type BatchProgress } from './progress.js';
export { evaluate, type Evaluation } from './evaluate.js';
