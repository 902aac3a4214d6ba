/**
 * Whether ops record themselves on the tape. Recording is on by default; {@link noGrad} turns it off
 * for the duration of a function (inference, optimiser updates), like `torch.no_grad()`.
 */

let disabledDepth = 0;

/** True when ops record their backward functions. */
export function isGradEnabled(): boolean {
  return disabledDepth === 0;
}

/** Runs `fn` with recording off and returns its result. Nests; async functions are not supported. */
export function noGrad<T>(fn: () => T): T {
  disabledDepth++;
  try {
    return fn();
  } finally {
    disabledDepth--;
  }
}

/** Runs `fn` with recording on, even inside {@link noGrad}. */
export function enableGrad<T>(fn: () => T): T {
  const saved = disabledDepth;
  disabledDepth = 0;
  try {
    return fn();
  } finally {
    disabledDepth = saved;
  }
}
