/**
 * Training progress output: a cli-progress bar (loss, accuracy, images/s, ETA) when stderr is a
 * terminal, plain lines otherwise (one every `every` batches and one per epoch), or nothing.
 */
import cliProgress from 'cli-progress';

/** The progress styles; `'auto'` picks `'bar'` on a TTY stderr and `'lines'` otherwise. */
export type ProgressMode = 'bar' | 'lines' | 'none' | 'auto';

/** What the loop reports after each batch. */
export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

/** A progress reporter. */
export interface Progress {
  startEpoch(epoch: number, epochs: number, batches: number, startBatch: number): void;
  batch(p: BatchProgress): void;
  /** Ends the epoch's bar (if any) and prints `summary`. */
  endEpoch(summary: string): void;
  /** A message (printed above the bar, or as a line). */
  message(line: string): void;
  stop(): void;
}

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/**
 * Creates the reporter for `mode`. Lines go to `log` (default: stderr). `every`: a line every
 * this many batches in `'lines'` mode.
 */
export function createProgress(mode: ProgressMode, log: (line: string) => void, every: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const resolved = mode === 'auto' ? (stream.isTTY === true ? 'bar' : 'lines') : mode;
  if (resolved === 'none') {
    return { startEpoch() {}, batch() {}, endEpoch() {}, message() {}, stop() {} };
  }
  if (resolved === 'lines') {
    return {
      startEpoch() {},
      batch(p) {
        if (p.batch % every === 0 || p.batch === p.batches) {
          log(
            `epoch ${p.epoch + 1}/${p.epochs} batch ${p.batch}/${p.batches} loss ${fmt(p.loss)} acc ${fmt(p.accuracy)} ${fmt(p.imagesPerSecond, 1)} img/s`,
          );
        }
      },
      endEpoch(summary) {
        log(summary);
      },
      message(line) {
        log(line);
      },
      stop() {},
    };
  }
  let bar: cliProgress.SingleBar | null = null;
  return {
    startEpoch(epoch, epochs, batches, startBatch) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `epoch ${epoch + 1}/${epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, startBatch, { loss: '-', acc: '-', ips: '-' });
    },
    batch(p) {
      bar?.update(p.batch, { loss: fmt(p.loss), acc: fmt(p.accuracy), ips: fmt(p.imagesPerSecond, 1) });
    },
    endEpoch(summary) {
      bar?.stop();
      bar = null;
      stream.write(`${summary}\n`);
    },
    message(line) {
      stream.write(`\n${line}\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
