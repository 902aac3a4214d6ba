/**
 * SIGINT / SIGTERM handling during `fit`: the first signal asks the loop to stop after the current
 * step (it then saves `last.safetensors` and resolves with `interrupted: true`); a second SIGINT
 * exits at once with status 130. Handlers are removed when training ends.
 */

/** A stop request raised by a signal (or by code, through `interrupt`). */
export interface InterruptFlag {
  /** The signal received, `'request'` for a programmatic interrupt, or null. */
  readonly reason: NodeJS.Signals | 'request' | null;
  interrupt(reason?: NodeJS.Signals | 'request'): void;
  /** Removes the signal handlers (idempotent). */
  dispose(): void;
}

/**
 * Installs SIGINT and SIGTERM handlers (when `listen` is true) that set the returned flag.
 * `onSignal` is told about each signal (for a log line).
 */
export function installInterruptHandlers(listen: boolean, onSignal: (signal: NodeJS.Signals) => void = () => undefined): InterruptFlag {
  let reason: NodeJS.Signals | 'request' | null = null;
  const handler = (signal: NodeJS.Signals): void => {
    if (reason !== null && signal === 'SIGINT') process.exit(130);
    reason ??= signal;
    onSignal(signal);
  };
  if (listen) {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
  let disposed = !listen;
  return {
    get reason() {
      return reason;
    },
    interrupt(why: NodeJS.Signals | 'request' = 'request') {
      reason ??= why;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
