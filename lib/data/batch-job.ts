/**
 * One batch's work, the same on the main thread and in a worker: read each sample, augment it with
 * its own generator (seeded from (seed, epoch, index), see seed.ts), and pack the survivors into
 * one NCHW array. A sample that throws is reported in `skipped`, never fatal.
 */
import { ShapeError } from '../errors.js';
import { sampleGenerator } from './seed.js';
import type { ImageShape, Transform } from './transforms/types.js';
import type { Dataset, SkippedSample } from './types.js';

/** A packed batch: `data` is [indices.length, ...shape]. */
export interface BatchResult {
  data: Float32Array;
  labels: Int32Array;
  indices: number[];
  skipped: SkippedSample[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Reads, augments and packs the samples `indices` of `dataset` for `epoch`. */
export async function runBatch(
  dataset: Dataset,
  transform: Transform | null,
  seed: number | bigint,
  epoch: number,
  indices: readonly number[],
  outShape: ImageShape,
): Promise<BatchResult> {
  const inShape = dataset.sampleShape;
  const results = await Promise.all(
    indices.map(async (index) => {
      try {
        const s = await dataset.get(index);
        if (s.input.length !== inShape[0] * inShape[1] * inShape[2]) {
          throw new ShapeError(`sample has ${s.input.length} values; the dataset's sample shape [${inShape.join(', ')}] needs ${inShape[0] * inShape[1] * inShape[2]}`);
        }
        let img = { data: s.input, shape: [...inShape] as ImageShape };
        if (transform !== null) img = transform.apply(img, sampleGenerator(seed, epoch, index));
        if (!sameShape(img.shape, outShape)) {
          throw new ShapeError(`augmented sample has shape [${img.shape.join(', ')}]; expected [${outShape.join(', ')}]`);
        }
        return { ok: true as const, index, data: img.data, label: s.label };
      } catch (err) {
        let source: string;
        try {
          source = dataset.source(index);
        } catch {
          source = `#${index}`;
        }
        return { ok: false as const, skip: { index, source, reason: err instanceof Error ? err.message : String(err) } };
      }
    }),
  );
  const size = outShape[0] * outShape[1] * outShape[2];
  const good = results.filter((r) => r.ok);
  const data = new Float32Array(good.length * size);
  const labels = new Int32Array(good.length);
  good.forEach((r, k) => {
    data.set(r.data, k * size);
    labels[k] = r.label;
  });
  return {
    data,
    labels,
    indices: good.map((r) => r.index),
    skipped: results.flatMap((r) => (r.ok ? [] : [r.skip])),
  };
}
