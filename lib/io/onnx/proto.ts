/**
 * Decoding ONNX protobuf messages (with protobufjs and the schema in schema.ts) and turning
 * `TensorProto`s into values: float tensors become convkit {@link Tensor}s, integer and boolean
 * tensors become {@link IntTensor}s (shapes, indices, axes). Every length is checked against the
 * bytes that are actually there before anything is allocated, so a corrupt file cannot request a
 * huge buffer.
 */
import protobuf from 'protobufjs';
import { ArgumentError, FormatError } from '../../errors.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { DATA_TYPE_NAMES, ONNX_PROTO } from './schema.js';

/** An int64 as protobufjs decodes it: a number, or a Long when the `long` package is present. */
export type Int64 = number | { toNumber(): number };

export interface TensorProtoMsg {
  dims: Int64[];
  data_type: number;
  segment: object | null;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name: string;
  raw_data: Uint8Array;
  double_data: number[];
  uint64_data: Int64[];
  external_data: { key: string; value: string }[];
  data_location: number;
}

export interface ValueInfoMsg {
  name: string;
  type: {
    tensor_type: { elem_type: number; shape: { dim: { dim_value: Int64; dim_param: string }[] } | null } | null;
  } | null;
}

export interface AttributeMsg {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t: TensorProtoMsg | null;
  g: GraphMsg | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProtoMsg[];
  graphs: GraphMsg[];
  ref_attr_name: string;
}

export interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeMsg[];
}

export interface GraphMsg {
  node: NodeMsg[];
  name: string;
  initializer: TensorProtoMsg[];
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
}

export interface ModelMsg {
  ir_version: Int64;
  producer_name: string;
  producer_version: string;
  graph: GraphMsg | null;
  opset_import: { domain: string; version: Int64 }[];
}

let root: protobuf.Root | undefined;

function messageType(name: string): protobuf.Type {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root.lookupType(`onnx.${name}`);
}

function decode<T>(type: string, bytes: Uint8Array, source: string): T {
  const reader = protobuf.Reader.create(bytes);
  try {
    return messageType(type).decode(reader) as unknown as T;
  } catch (err) {
    // The reader is shared by nested messages, so its position is where decoding stopped.
    throw new FormatError(
      `${source}: not a valid ONNX ${type} (${bytes.length} bytes): ${(err as Error).message} at byte offset ${reader.pos}`,
    );
  }
}

/** Decodes a `ModelProto` (a `.onnx` file). @throws FormatError for bytes protobuf cannot decode. */
export function decodeModel(bytes: Uint8Array, source: string): ModelMsg {
  return decode<ModelMsg>('ModelProto', bytes, source);
}

/**
 * Encodes a `ModelProto` (a decoded message, or a plain object with the same fields). Fields the
 * schema leaves out are not written.
 */
export function encodeModel(model: object): Uint8Array {
  const type = messageType('ModelProto');
  return type.encode(type.fromObject(model)).finish();
}

/** Decodes a lone `TensorProto` (the `.pb` files of ONNX's test data). */
export function decodeTensorProto(bytes: Uint8Array, source: string): TensorProtoMsg {
  return decode<TensorProtoMsg>('TensorProto', bytes, source);
}

/** An int64 as a number (exact below 2^53; larger values keep their magnitude, as Slice's INT64_MAX). */
export function int64(v: Int64): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * An integer (or boolean) tensor: shape arithmetic, indices and axes, which convkit's float32
 * {@link Tensor} cannot hold exactly. `dtype` is the ONNX `TensorProto.DataType`.
 */
export class IntTensor {
  constructor(
    readonly data: number[],
    readonly shape: readonly number[],
    readonly dtype = 7,
  ) {}

  get size(): number {
    return this.data.length;
  }

  /** The values as a float32 tensor (exact below 2^24). */
  toTensor(): Tensor {
    return new Tensor(Float32Array.from(this.data), this.shape);
  }
}

/** A value flowing through the graph. */
export type Value = Tensor | IntTensor;

/** Data types that become float tensors, with their byte sizes in raw_data. */
const FLOAT_TYPES: Record<number, number> = { 1: 4, 10: 2, 11: 8 };
/** Integer data types with their byte sizes in raw_data. */
const INT_TYPES: Record<number, number> = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 12: 4, 13: 8 };

/** Whether an ONNX data type becomes an {@link IntTensor}. */
export function isIntType(dtype: number): boolean {
  return INT_TYPES[dtype] !== undefined;
}

/** The largest element count a tensor in a file may declare (2^31 - 1 floats is 8 GiB). */
const MAX_ELEMENTS = 2 ** 31 - 1;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * The value a `TensorProto` holds. `what` names it in messages (`tensor 'conv1.weight'`).
 * @throws FormatError when the data does not match the dims (expected vs actual length) or a dim
 *   is negative or absurd; ArgumentError for external data, segments and unsupported data types.
 */
export function tensorFromProto(t: TensorProtoMsg, source: string): Value {
  const label = `tensor '${t.name}'`;
  if (t.data_location === 1 || t.external_data.length > 0) {
    const file = t.external_data.find((e) => e.key === 'location')?.value ?? '?';
    throw new ArgumentError(
      `${source}: ${label} keeps its data in an external file ('${file}'), which convkit does not read; ` +
        'save the model with its weights inside the .onnx file (onnx.save_model(..., save_as_external_data=False))',
    );
  }
  if (t.segment !== null) throw new ArgumentError(`${source}: ${label} is segmented, which convkit does not read`);
  const dims = t.dims.map(int64);
  let size = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${source}: ${label} has an invalid dimension ${d} in dims ${formatShape(dims)}`);
    size *= d;
  }
  if (size > MAX_ELEMENTS) throw new FormatError(`${source}: ${label} declares ${size} elements (dims ${formatShape(dims)}), more than convkit allows (${MAX_ELEMENTS})`);
  const dtype = t.data_type;
  const typeName = DATA_TYPE_NAMES[dtype] ?? `data type ${dtype}`;
  const floatBytes = FLOAT_TYPES[dtype];
  const intBytes = INT_TYPES[dtype];
  const elemBytes = floatBytes ?? intBytes;
  if (elemBytes === undefined) {
    throw new ArgumentError(`${source}: ${label} has data type ${typeName}, which convkit does not support (float, double, float16 and integer types only)`);
  }
  const raw = t.raw_data;
  const mismatch = (field: string, actual: number, expected: number, unit: string): FormatError =>
    new FormatError(
      `${source}: ${label} (${typeName}, dims ${formatShape(dims)}) needs ${expected} ${unit} of ${field} but has ${actual}`,
    );
  if (raw.length > 0 || size === 0) {
    if (raw.length !== size * elemBytes) throw mismatch('raw_data', raw.length, size * elemBytes, 'bytes');
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (floatBytes !== undefined) {
      const out = new Float32Array(size);
      if (dtype === 1) for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
      else if (dtype === 11) for (let i = 0; i < size; i++) out[i] = view.getFloat64(8 * i, true);
      else for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return new Tensor(out, dims);
    }
    const out = new Array<number>(size);
    for (let i = 0; i < size; i++) {
      switch (dtype) {
        case 2: case 9: out[i] = view.getUint8(i); break;
        case 3: out[i] = view.getInt8(i); break;
        case 4: out[i] = view.getUint16(2 * i, true); break;
        case 5: out[i] = view.getInt16(2 * i, true); break;
        case 6: out[i] = view.getInt32(4 * i, true); break;
        case 12: out[i] = view.getUint32(4 * i, true); break;
        case 13: out[i] = Number(view.getBigUint64(8 * i, true)); break;
        default: out[i] = Number(view.getBigInt64(8 * i, true));
      }
    }
    return new IntTensor(out, dims, dtype);
  }
  const typed = (field: string, values: readonly Int64[]): readonly Int64[] => {
    if (values.length !== size) throw mismatch(field, values.length, size, 'values');
    return values;
  };
  switch (dtype) {
    case 1:
      return new Tensor(Float32Array.from(typed('float_data', t.float_data) as number[]), dims);
    case 11:
      return new Tensor(Float32Array.from(typed('double_data', t.double_data) as number[]), dims);
    case 10:
      return new Tensor(Float32Array.from(typed('int32_data', t.int32_data) as number[], halfToFloat), dims);
    case 7:
      return new IntTensor(typed('int64_data', t.int64_data).map(int64), dims, dtype);
    case 12: case 13:
      return new IntTensor(typed('uint64_data', t.uint64_data).map(int64), dims, dtype);
    default:
      return new IntTensor((typed('int32_data', t.int32_data) as number[]).slice(), dims, dtype);
  }
}
