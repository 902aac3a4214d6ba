/** Reverse-mode automatic differentiation on a tape (PyTorch-style eager). */
export { noGrad, enableGrad, isGradEnabled } from './grad-mode.js';
export { GradInput, GradNode, type BackwardFn } from './node.js';
export { record, needsRecord } from './record.js';
export { backward, type BackwardOptions } from './backward.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
