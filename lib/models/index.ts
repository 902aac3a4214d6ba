/**
 * The model zoo, exported from the package root as `models`: builders that each take
 * `{ numClasses, inChannels }` (plus architecture options) and return a freshly initialised
 * model whose module names match torchvision where torchvision has the model.
 */
import { ArgumentError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { alexnet, zfnet } from './alexnet.js';
import { cifarNet } from './cifar-net.js';
import { googlenet } from './googlenet.js';
import { lenet5 } from './lenet.js';
import { mobilenetV2 } from './mobilenet-v2.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { vgg11, vgg16 } from './vgg.js';

export * from './options.js';
export * from './lenet.js';
export * from './cifar-net.js';
export * from './alexnet.js';
export * from './vgg.js';
export * from './resnet.js';
export * from './googlenet.js';
export * from './mobilenet-v2.js';

const BUILDERS = {
  lenet5,
  alexnet,
  zfnet,
  vgg11,
  vgg16,
  resnet18,
  resnet34,
  resnet50,
  googlenet,
  mobilenetV2,
  cifarNet,
} as const;

/** The name of a zoo builder. */
export type ModelName = keyof typeof BUILDERS;

/** The names of every zoo builder, for CLIs and config files. */
export function modelNames(): ModelName[] {
  return Object.keys(BUILDERS) as ModelName[];
}

/**
 * Builds a zoo model by name (`buildModel('resnet18', { numClasses: 10 })`).
 * @throws ArgumentError for an unknown name, listing the known ones.
 */
export function buildModel(name: string, options: Record<string, unknown> = {}): Module {
  const builder = (BUILDERS as Record<string, (o: Record<string, unknown>) => Module>)[name];
  if (builder === undefined || !Object.prototype.hasOwnProperty.call(BUILDERS, name)) {
    throw new ArgumentError(`buildModel: unknown model '${name}'; known models: ${modelNames().join(', ')}`);
  }
  return builder(options);
}
