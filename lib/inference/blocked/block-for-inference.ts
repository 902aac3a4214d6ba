/**
 * The pass that moves a fused model's convolution chains into the channel-blocked layout
 * (blocked-chain.ts): every outermost `Sequential` whose modules all compile to blocked steps, with
 * at least {@link MIN_KERNEL_STEPS} convolutions, is replaced by a {@link BlockedChain}.
 * MobileNetV2's `features` (52 convolutions) becomes one chain and each ResNet stage another; a
 * sequence holding anything without a blocked form (pooling, a flatten, a linear layer) keeps its
 * plain path.
 *
 * {@link fuseForInference} runs it after fusing and checks the result on its traced sample, undoing
 * the replacements (through the functions this pass hands back) when the output differs.
 */
import { Sequential } from '../../nn/layers/index.js';
import type { Module } from '../../nn/module.js';
import { BlockedChain, compileModules, kernelSteps } from './blocked-chain.js';

/** Chains shorter than this stay plain: the reorders in and out would cost more than they save. */
export const MIN_KERNEL_STEPS = 3;

/**
 * Replaces the blockable sequences of `model` (already fused, in eval mode). Returns one function
 * per replacement that puts the original back.
 */
export function blockForInference(model: Module): Array<() => void> {
  const undo: Array<() => void> = [];
  const replacedPrefixes: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (path === '' || !(m instanceof Sequential)) continue;
    if (replacedPrefixes.some((p) => path.startsWith(`${p}.`))) continue;
    const steps = compileModules(m.children());
    if (steps === null || kernelSteps(steps) < MIN_KERNEL_STEPS) continue;
    model.replaceModule(path, new BlockedChain(steps, m, path));
    undo.push(() => model.replaceModule(path, m));
    replacedPrefixes.push(path);
  }
  return undo;
}
