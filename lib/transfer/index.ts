/**
 * Transfer learning: find and replace the classifier head of zoo and imported models, freeze the
 * backbone (frozen batch norm stays in eval mode), parameter groups with a lower backbone lr,
 * gradual unfreezing, and cached backbone features for fast head training.
 */
export { findHead, replaceHead, FeatureHead, type HeadInfo, type ReplaceHeadOptions } from './head.js';
export {
  freezeBackbone, keepFrozenBatchNormInEval, backboneParamGroups, unfreezeSchedule,
  type FreezeOptions, type FreezeResult, type ParamGroupsOptions, type UnfreezeStage, type UnfreezeOptions, type UnfreezeCallback,
} from './freeze.js';
export {
  cacheFeatures, featureExtractor, featureCacheKey, hashWeights, backboneWeights, FeatureCache,
  type BackboneFn, type BackboneSpec, type CacheFeaturesOptions, type FeatureIndex,
} from './feature-cache.js';
