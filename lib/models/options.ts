/**
 * Options every zoo builder takes, their validation, and the weight initialisations the
 * torchvision models share.
 */
import { invalidArgument } from '../errors.js';
import type { JsonValue, Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Conv3d, Linear } from '../nn/layers/index.js';
import * as init from '../nn/init.js';

/** Options of every zoo builder. */
export interface ModelOptions {
  /** Size of the classifier's output (default 1000, ImageNet). */
  numClasses?: number;
  /** Channels of the input image (default 3; 1 for grayscale). */
  inChannels?: number;
}

/** Validated {@link ModelOptions}, plus the JSON config they serialise to. */
export interface ResolvedModelOptions {
  numClasses: number;
  inChannels: number;
}

export function positiveInteger(value: unknown, name: string, model: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidArgument(`${name} of ${model}()`, 'a positive integer', value);
  }
  return value;
}

/** Checks the options object and fills the defaults (`numClasses` 1000, `inChannels` 3 unless given). */
export function resolveModelOptions(
  options: unknown,
  model: string,
  defaults: Partial<ResolvedModelOptions> = {},
): ResolvedModelOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidArgument(`the options of ${model}()`, 'an object such as { numClasses: 10 }', options);
  }
  const o = (options ?? {}) as ModelOptions;
  return {
    numClasses: positiveInteger(o.numClasses ?? defaults.numClasses ?? 1000, 'options.numClasses', model),
    inChannels: positiveInteger(o.inChannels ?? defaults.inChannels ?? 3, 'options.inChannels', model),
  };
}

/** `config` as a JSON object (for `Module.config()`). */
export function asConfig(config: object): { [key: string]: JsonValue } {
  return JSON.parse(JSON.stringify(config)) as { [key: string]: JsonValue };
}

/**
 * torchvision's initialisation for ResNet, VGG and MobileNetV2: convolutions Kaiming-normal with
 * `fanOut` and ReLU gain, conv biases zero; batch norm weight 1, bias 0; linear layers as given
 * (`'normal'`: N(0, 0.01²) and zero bias, as VGG and MobileNetV2; `'default'`: left as built).
 */
export function torchvisionInit(model: Module, linear: 'normal' | 'default'): void {
  for (const m of model.modules()) {
    if (m instanceof Conv1d || m instanceof Conv2d || m instanceof Conv3d) {
      init.kaimingNormal_(m.weight, { mode: 'fanOut', nonlinearity: 'relu' });
      if (m.bias !== null) init.zeros_(m.bias);
    } else if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof BatchNorm3d) {
      if (m.weight !== null) init.ones_(m.weight);
      if (m.bias !== null) init.zeros_(m.bias);
    } else if (m instanceof Linear && linear === 'normal') {
      init.normal_(m.weight, 0, 0.01);
      if (m.bias !== null) init.zeros_(m.bias);
    }
  }
}
