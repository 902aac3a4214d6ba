/**
 * `convkit summary <model>`: the layer table of a zoo model (output volumes, parameters, totals)
 * for a given input shape, as text or JSON.
 */
import { ArgumentError } from '../errors.js';
import { buildModel, modelNames } from '../models/index.js';
import { summary, type Summary } from '../nn/summary.js';

/** Options of {@link modelSummary}, as the CLI parses them. */
export interface SummaryCommandOptions {
  numClasses?: number;
  inChannels?: number;
  /** Input shape without the batch, e.g. [3, 224, 224]; default from the model. */
  input?: number[];
}

/** The input each zoo model is drawn at by default (the size its paper uses). */
function defaultInput(name: string, inChannels: number): number[] {
  switch (name) {
    case 'lenet5':
      return [inChannels, 28, 28];
    case 'alexnet':
      return [inChannels, 227, 227];
    default:
      return [inChannels, 224, 224];
  }
}

/** Parses '3,224,224' (or '3x224x224') into a shape. */
export function parseShape(value: string): number[] {
  const dims = value.split(/[x,]/).map((s) => Number(s.trim()));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(`expected an input shape such as 3,224,224; received '${value}'`);
  }
  return dims;
}

/**
 * Builds zoo model `name` and summarises it.
 * @throws ArgumentError for an unknown model (listing the known ones) or bad options.
 */
export function modelSummary(name: string, options: SummaryCommandOptions = {}): Summary {
  if (!modelNames().includes(name as never)) {
    throw new ArgumentError(`unknown model '${name}'; known models: ${modelNames().join(', ')}`);
  }
  const builderOptions: Record<string, unknown> = {};
  if (options.numClasses !== undefined) builderOptions['numClasses'] = options.numClasses;
  if (options.inChannels !== undefined) builderOptions['inChannels'] = options.inChannels;
  // The paper AlexNet and ZFNet end in a fixed-size flatten: their builders take the input size.
  if ((name === 'alexnet' || name === 'zfnet') && options.input !== undefined) builderOptions['inputSize'] = options.input[1];
  const model = buildModel(name, builderOptions);
  const inChannels = options.inChannels ?? (name === 'lenet5' ? 1 : 3);
  return summary(model, options.input ?? defaultInput(name, inChannels));
}
