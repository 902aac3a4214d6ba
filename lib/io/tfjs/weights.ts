/**
 * The weight data of a TF.js model: every manifest entry located in the concatenated shards
 * (all groups, in manifest order, as TF.js reads them), checked against the bytes actually
 * present before anything is allocated, then decoded on demand to float32: plain float32 and
 * int32, uint8/uint16 quantisation (`min + scale * q`, as TF.js computes it) and float16.
 */
import { ArgumentError, FormatError } from '../../errors.js';
import type { WeightGroup, WeightSpec } from './topology.js';

/** Bytes per stored element, by storage dtype. */
const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** At most 2^31 - 1 elements per tensor (the Float32Array limit convkit uses everywhere). */
const MAX_ELEMENTS = 2 ** 31 - 1;

interface Located {
  spec: WeightSpec;
  offset: number;
  byteLength: number;
  size: number;
  storage: string;
}

/** A decoded weight: its TF.js shape and float32 values. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

function storageOf(spec: WeightSpec): string {
  return spec.quantization?.dtype ?? spec.dtype;
}

/** Weights located in one byte stream; see the module comment. */
export class WeightStore {
  readonly #byName = new Map<string, Located>();
  readonly #names: string[] = [];
  readonly #bytes: Uint8Array;
  readonly #file: string;

  /**
   * Locates every manifest entry in `bytes` (all shards of all groups concatenated).
   * @throws FormatError when a shape is absurd or the data is shorter than the manifest says (naming
   *   the tensor, its shards and the expected vs actual byte lengths); ArgumentError for a dtype
   *   convkit cannot decode (string, complex64).
   */
  constructor(groups: readonly WeightGroup[], bytes: Uint8Array, file: string) {
    this.#bytes = bytes;
    this.#file = file;
    let offset = 0;
    for (const [g, group] of groups.entries()) {
      for (const spec of group.weights) {
        const storage = storageOf(spec);
        const width = ELEMENT_BYTES[storage];
        if (width === undefined) {
          throw new ArgumentError(`${file}: weight '${spec.name}' is stored as '${storage}'; convkit reads float32, int32, bool, uint8, uint16 and float16 weights`);
        }
        if (spec.quantization !== undefined && !['uint8', 'uint16', 'float16'].includes(storage)) {
          throw new FormatError(`${file}: weight '${spec.name}' has quantization dtype '${storage}' (expected uint8, uint16 or float16)`);
        }
        let size = 1;
        for (const d of spec.shape) {
          size *= d;
          if (size > MAX_ELEMENTS) {
            throw new FormatError(`${file}: weight '${spec.name}' has shape [${spec.shape.join(', ')}], more than ${MAX_ELEMENTS} elements`);
          }
        }
        const byteLength = size * width;
        const available = Math.max(0, bytes.length - offset);
        if (byteLength > available) {
          const shards = group.paths.join(', ');
          throw new FormatError(
            `${file}: weight '${spec.name}' (group ${g}, shard(s) ${shards}) needs ${byteLength} bytes at byte offset ${offset} ` +
              `of the weight data but only ${available} remain (the data holds ${bytes.length} bytes in all); is a shard truncated?`,
          );
        }
        // The first of two same-named entries wins (TF.js keeps one per name too).
        if (!this.#byName.has(spec.name)) {
          this.#byName.set(spec.name, { spec, offset, byteLength, size, storage });
          this.#names.push(spec.name);
        }
        offset += byteLength;
      }
    }
  }

  /** Every weight name in manifest order. */
  get names(): readonly string[] {
    return this.#names;
  }

  /**
   * The name of the manifest entry for weight `weight` of layer `layer`: `layer/weight` exactly, or
   * else the one entry whose name ends in `/layer/weight` (converters may add a scope prefix).
   */
  find(layer: string, weight: string): string | undefined {
    const exact = `${layer}/${weight}`;
    if (this.#byName.has(exact)) return exact;
    const suffix = `/${exact}`;
    const matches = this.#names.filter((n) => n.endsWith(suffix));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The shape of entry `name` (undefined when absent). */
  shapeOf(name: string): readonly number[] | undefined {
    return this.#byName.get(name)?.spec.shape;
  }

  /** Decodes entry `name` to float32. @throws FormatError when it is absent. */
  decode(name: string): DecodedWeight {
    const w = this.#byName.get(name);
    if (w === undefined) throw new FormatError(`${this.#file}: weight '${name}' is not in the weights manifest`);
    const out = new Float32Array(w.size);
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + w.offset, w.byteLength);
    const q = w.spec.quantization;
    switch (w.storage) {
      case 'float32':
        for (let i = 0; i < w.size; i++) out[i] = view.getFloat32(4 * i, true);
        break;
      case 'int32':
        for (let i = 0; i < w.size; i++) out[i] = view.getInt32(4 * i, true);
        break;
      case 'bool':
        for (let i = 0; i < w.size; i++) out[i] = view.getUint8(i) === 0 ? 0 : 1;
        break;
      case 'float16':
        for (let i = 0; i < w.size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'uint8':
      case 'uint16': {
        const min = q?.min ?? 0;
        const scale = q?.scale ?? 1;
        const wide = w.storage === 'uint16';
        // As TF.js: the product in double precision, rounded once to float32 on store.
        for (let i = 0; i < w.size; i++) out[i] = (wide ? view.getUint16(2 * i, true) : view.getUint8(i)) * scale + min;
        break;
      }
    }
    return { name, shape: w.spec.shape.slice(), data: out };
  }
}

/** IEEE 754 half to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}
