/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written without
 * dependencies:
 *
 * ```
 * [8 bytes]  N, unsigned little-endian 64-bit: the header's length
 * [N bytes]  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] },
 *                          "__metadata__": { "<key>": "<string value>" } }   (padded with spaces)
 * [rest]     the byte buffer; offsets are relative to its start, little-endian, row-major
 * ```
 *
 * Reading validates the whole header before allocating anything for tensor data: header length
 * (at most the file and at most {@link MAX_HEADER_BYTES}), strict JSON (no duplicate keys, no
 * unknown fields), known dtypes, non-negative integer shapes whose byte size equals the entry's
 * offset span, and offsets that tile the byte buffer exactly (no holes, no overlap, nothing past
 * the end). Every violation is a {@link FormatError} naming the file and what is wrong.
 *
 * Dtypes: convkit tensors are float32, so every supported dtype is converted to float32 on load:
 * F32 (bit-exact), F16 and BF16 (exact), F64 (rounded), I64/I32/I16/I8, U64/U32/U16/U8 (rounded
 * above 2^24; I64/U64 beyond 2^53 lose precision first), BOOL (0 or 1). F8 types are refused.
 * Saving always writes F32.
 */
import { open } from 'node:fs/promises';
import { FormatError, invalidArgument } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic-write.js';

/** The dtypes {@link loadSafetensors} reads (all converted to float32). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** The largest header accepted, in bytes (as the reference implementation: 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** What {@link loadSafetensors} returns. */
export interface SafetensorsFile {
  /** The tensors, float32, in the order of their data in the file. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** One validated header entry. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer. */
  begin: number;
  end: number;
}

const ITEM_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

const KNOWN_UNSUPPORTED = ['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'];

// ---------------------------------------------------------------------------------------------
// A strict JSON reader: JSON.parse silently keeps the last of duplicate keys and has no depth
// limit, so the header is parsed here (objects become Maps, duplicates are errors).

type Json = null | boolean | number | string | Json[] | Map<string, Json>;

class JsonReader {
  pos = 0;
  constructor(
    readonly text: string,
    readonly fail: (what: string) => FormatError,
  ) {}

  parse(): Json {
    const value = this.value(0);
    this.ws();
    if (this.pos !== this.text.length) throw this.fail(`unexpected '${this.text[this.pos]}' after the JSON value at header byte ${this.pos}`);
    return value;
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  private value(depth: number): Json {
    if (depth > 64) throw this.fail('the JSON header is nested deeper than 64 levels');
    this.ws();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    throw this.fail(c === undefined ? 'the JSON header ends unexpectedly' : `invalid JSON at header byte ${this.pos} ('${c}')`);
  }

  private object(depth: number): Map<string, Json> {
    const out = new Map<string, Json>();
    this.pos++;
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') throw this.fail(`expected a string key at header byte ${this.pos}`);
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') throw this.fail(`expected ':' at header byte ${this.pos}`);
      this.pos++;
      const v = this.value(depth + 1);
      if (out.has(key)) throw this.fail(`duplicate key '${key}' in the JSON header`);
      out.set(key, v);
      this.ws();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') throw this.fail(`expected ',' or '}' at header byte ${this.pos - 1}`);
    }
  }

  private array(depth: number): Json[] {
    const out: Json[] = [];
    this.pos++;
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') throw this.fail(`expected ',' or ']' at header byte ${this.pos - 1}`);
    }
  }

  private string(): string {
    // Find the closing quote, then let JSON.parse decode escapes (and reject control characters).
    const start = this.pos;
    let i = start + 1;
    const t = this.text;
    for (;;) {
      if (i >= t.length) throw this.fail(`unterminated string at header byte ${start}`);
      const c = t[i];
      if (c === '\\') i += 2;
      else if (c === '"') break;
      else i++;
    }
    this.pos = i + 1;
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      throw this.fail(`invalid string at header byte ${start}`);
    }
  }

  private number(): number {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (m === null) throw this.fail(`invalid number at header byte ${this.pos}`);
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

// ---------------------------------------------------------------------------------------------

function describeJson(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return JSON.stringify(v).slice(0, 60);
}

/**
 * Parses and validates the header of a safetensors file of `fileSize` bytes whose first bytes are
 * `head` (at least 8 bytes, and the whole header if it fits). Returns the header length, the
 * entries sorted by offset and the metadata. Allocates nothing proportional to tensor data.
 * @throws FormatError for any violation of the format (see the module comment).
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  fileSize: number,
  name = '<buffer>',
): { headerBytes: number; entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  const fail = (what: string): FormatError => new FormatError(`${name}: not a valid safetensors file: ${what}`);
  if (fileSize < 8 || head.byteLength < 8) {
    throw fail(`the file has ${fileSize} bytes, fewer than the 8 of the header-length field`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) {
    throw fail(`the header length field (byte 0) says ${n64} bytes but only ${fileSize - 8} bytes follow it`);
  }
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw fail(`the header length ${n64} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const headerBytes = Number(n64);
  if (headerBytes < 2) throw fail(`the header length ${headerBytes} is too short for a JSON object`);
  if (head.byteLength < 8 + headerBytes) throw fail(`internal: only ${head.byteLength} bytes of the header were read`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(head.subarray(8, 8 + headerBytes));
  } catch {
    throw fail('the header is not valid UTF-8');
  }
  if (text[0] !== '{') throw fail(`the header must start with '{' but starts with ${JSON.stringify(text.slice(0, 8))}`);
  const root = new JsonReader(text, fail).parse();
  if (!(root instanceof Map)) throw fail(`the header is ${describeJson(root)}, expected a JSON object`);

  const dataBytes = fileSize - 8 - headerBytes;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [key, value] of root) {
    if (key === '__metadata__') {
      if (!(value instanceof Map)) throw fail(`__metadata__ is ${describeJson(value)}, expected an object of strings`);
      for (const [mk, mv] of value) {
        if (typeof mv !== 'string') throw fail(`__metadata__['${mk}'] is ${describeJson(mv)}, expected a string`);
        Object.defineProperty(metadata, mk, { value: mv, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor '${key}'`;
    if (!(value instanceof Map)) throw fail(`${where} is ${describeJson(value)}, expected an object with dtype, shape and data_offsets`);
    for (const field of value.keys()) {
      if (field !== 'dtype' && field !== 'shape' && field !== 'data_offsets') {
        throw fail(`${where} has unknown field '${field}' (expected dtype, shape, data_offsets)`);
      }
    }
    const dtype = value.get('dtype');
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(ITEM_BYTES, dtype)) {
      const note = typeof dtype === 'string' && KNOWN_UNSUPPORTED.includes(dtype) ? ' (a valid safetensors dtype that convkit does not read)' : '';
      throw fail(`${where} has dtype ${describeJson(dtype)}${note}; expected one of ${Object.keys(ITEM_BYTES).join(', ')}`);
    }
    const shape = value.get('shape');
    if (!Array.isArray(shape)) throw fail(`${where} has shape ${describeJson(shape)}, expected an array of integers`);
    if (shape.length > 64) throw fail(`${where} has ${shape.length} dimensions (at most 64 accepted)`);
    let elements = 1;
    for (const [i, d] of shape.entries()) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw fail(`${where} has shape[${i}] = ${describeJson(d)}, expected a non-negative integer`);
      }
      elements *= d;
      if (elements > Number.MAX_SAFE_INTEGER) throw fail(`${where} has an absurd shape [${shape.join(', ')}] (more than 2^53 elements)`);
    }
    const offsets = value.get('data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2) throw fail(`${where} has data_offsets ${describeJson(offsets)}, expected [begin, end]`);
    const [begin, end] = offsets as [Json, Json];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw fail(`${where} has data_offsets [${describeJson(begin)}, ${describeJson(end)}], expected integers 0 <= begin <= end`);
    }
    if (end > dataBytes) {
      throw fail(`${where} has data_offsets [${begin}, ${end}] past the end of the ${dataBytes}-byte data buffer (file offset ${8 + headerBytes + end} > ${fileSize})`);
    }
    const itemBytes = ITEM_BYTES[dtype as SafetensorsDtype];
    const expected = elements * itemBytes;
    if (expected !== end - begin) {
      throw fail(
        `${where} (${dtype}, shape [${shape.join(', ')}]) needs ${expected} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    if (elements > 0x7fffffff) throw fail(`${where} has ${elements} elements, more than a float32 tensor can hold`);
    entries.push({ name: key, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) throw fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap the previous tensor, which ends at ${at}`);
    if (e.begin > at) throw fail(`a hole in the data buffer: bytes [${at}, ${e.begin}) before tensor '${e.name}' belong to no tensor`);
    at = e.end;
  }
  if (at !== dataBytes) {
    throw fail(`the tensors cover ${at} bytes of the data buffer but it has ${dataBytes} (${dataBytes - at} trailing bytes belong to no tensor)`);
  }
  return { headerBytes, entries, metadata };
}

/** Decodes one tensor's bytes (validated length) to float32. */
function decode(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(bytes);
    if (!LITTLE_ENDIAN) {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true);
    }
    return out;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(8 * i, true));
      break;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(v.getBigUint64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = v.getUint32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = v.getInt16(2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = v.getUint16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = v.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half to number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

function tensorsOf(entries: SafetensorsEntry[], data: Uint8Array): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / ITEM_BYTES[e.dtype];
    tensors.set(e.name, new Tensor(decode(data.subarray(e.begin, e.end), e.dtype, count), e.shape));
  }
  return tensors;
}

/**
 * Parses a safetensors file held in memory (see the module comment for what is validated and how
 * dtypes convert). `name` labels error messages.
 * @throws FormatError for a malformed file.
 */
export function parseSafetensors(bytes: Uint8Array, name = '<buffer>'): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('the bytes of parseSafetensors()', 'a Uint8Array or Buffer', bytes);
  const { headerBytes, entries, metadata } = parseSafetensorsHeader(bytes, bytes.byteLength, name);
  return { tensors: tensorsOf(entries, bytes.subarray(8 + headerBytes)), metadata };
}

/**
 * Reads a safetensors file (a path, or its bytes as a Buffer/Uint8Array). The header is read and
 * validated first; tensor data is read only once it has passed, so a corrupt or hostile file
 * causes no large allocation.
 * @throws FormatError (naming the file) for a malformed file; the file system's error when it
 *   cannot be read.
 */
export async function loadSafetensors(source: string | Uint8Array): Promise<SafetensorsFile> {
  if (source instanceof Uint8Array) return parseSafetensors(source);
  if (typeof source !== 'string') throw invalidArgument('the source of loadSafetensors()', 'a file path or a Buffer', source);
  const handle = await open(source, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const first = new Uint8Array(Math.min(fileSize, 8));
    await readFully(handle, first, 0);
    // The length check happens in parseSafetensorsHeader before the header itself is read.
    parseLengthOnly(first, fileSize, source);
    const headerBytes = Number(new DataView(first.buffer).getBigUint64(0, true));
    const head = new Uint8Array(8 + headerBytes);
    head.set(first);
    await readFully(handle, head.subarray(8), 8);
    const { entries, metadata } = parseSafetensorsHeader(head, fileSize, source);
    const data = new Uint8Array(fileSize - 8 - headerBytes);
    await readFully(handle, data, 8 + headerBytes);
    return { tensors: tensorsOf(entries, data), metadata };
  } finally {
    await handle.close();
  }
}

/** Validates the 8-byte length field alone (before the header is read). */
function parseLengthOnly(first: Uint8Array, fileSize: number, name: string): void {
  if (fileSize < 8) parseSafetensorsHeader(first, fileSize, name);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8) || n > BigInt(MAX_HEADER_BYTES) || n < 2n) parseSafetensorsHeader(first, fileSize, name);
}

async function readFully(handle: import('node:fs/promises').FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new FormatError(`unexpected end of file at offset ${position + done} (the file shrank while being read)`);
    done += bytesRead;
  }
}

/**
 * Serialises tensors to safetensors bytes (F32, in the given order, header padded with spaces to a
 * multiple of 8 bytes so the data is aligned). Returns the chunks to write.
 * @throws ArgumentError for a non-Tensor value, the reserved name `__metadata__`, or a non-string
 *   metadata value.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array[] {
  const list: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, Tensor>);
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  if (metadata === null || typeof metadata !== 'object') throw invalidArgument('the metadata of saveSafetensors()', 'an object of strings', metadata);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw invalidArgument(`metadata['${k}'] of saveSafetensors()`, 'a string', v);
    meta[k] = v;
  }
  if (Object.keys(meta).length > 0) header['__metadata__'] = meta;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of list) {
    if (name === '__metadata__') throw invalidArgument('a tensor name of saveSafetensors()', "a name other than '__metadata__'", name);
    if (!(t instanceof Tensor)) throw invalidArgument(`tensor '${name}' of saveSafetensors()`, 'a Tensor', t);
    const bytes = t.size * 4;
    Object.defineProperty(header, name, {
      value: { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] },
      enumerable: true,
      configurable: true,
      writable: true,
    });
    offset += bytes;
    let data = new Uint8Array(t.data.buffer, t.data.byteOffset, bytes);
    if (!LITTLE_ENDIAN) {
      data = new Uint8Array(bytes);
      const v = new DataView(data.buffer);
      t.data.forEach((x, i) => v.setFloat32(4 * i, x, true));
    }
    chunks.push(data);
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return [length, json, ...chunks];
}

/**
 * Writes tensors (a Map or a plain object; float32, saved as F32 in the given order) and string
 * metadata to a safetensors file, atomically (a crash leaves any previous file intact).
 * @throws ArgumentError for invalid tensors or metadata; the file system's error on I/O failure.
 */
export async function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('the path of saveSafetensors()', 'a file path', path);
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
