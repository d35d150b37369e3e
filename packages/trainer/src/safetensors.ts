/**
 * The safetensors format (what Hugging Face loads): an 8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. Float32 (and int8, written for the attribute file of an export).
 */

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type TensorMap = Map<string, NamedTensor>;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const elementCount = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** Serialises float32 tensors, in the order given, with optional string metadata. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const raw = [...tensors].map(([name, tensor]): RawTensor => {
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`tensor ${name}: ${tensor.data.length} values do not fill shape [${tensor.shape.join(', ')}]`);
    }
    return { name, dtype: 'F32', shape: tensor.shape, bytes: littleEndianFloats(tensor.data) };
  });
  return encodeRawSafetensors(raw, metadata);
}

/** A tensor as bytes: little-endian float32 (F32) or int8 (I8). */
export interface RawTensor {
  name: string;
  dtype: 'F32' | 'I8';
  shape: readonly number[];
  bytes: Uint8Array;
}

/** `data`'s bytes, little-endian. */
export function littleEndianFloats(data: Float32Array): Uint8Array {
  if (isLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return out;
}

/** Serialises tensors of their bytes, in the order given, with string metadata. */
export function encodeRawSafetensors(tensors: readonly RawTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, dtype, shape, bytes } of tensors) {
    if (bytes.length !== elementCount(shape) * (dtype === 'F32' ? 4 : 1)) throw new Error(`tensor ${name}: ${bytes.length} bytes do not fill ${dtype} shape [${shape.join(', ')}]`);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const { bytes } of tensors) {
    out.set(bytes, position);
    position += bytes.length;
  }
  return out;
}

/** Parses a safetensors file; throws a clear error on anything malformed or not float32. */
export function decodeSafetensors(bytes: Uint8Array): { tensors: TensorMap; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error('safetensors: file is shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new Error('safetensors: header length exceeds the file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch {
    throw new Error('safetensors: header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as HeaderEntry;
    if (entry.dtype !== 'F32') throw new Error(`safetensors: tensor ${name} has dtype ${entry.dtype}; only F32 is supported`);
    const [begin, end] = entry.data_offsets;
    const count = elementCount(entry.shape);
    if (!(begin >= 0 && end <= dataLength && end - begin === count * 4)) {
      throw new Error(`safetensors: tensor ${name} has byte range [${begin}, ${end}) that does not match shape [${entry.shape.join(', ')}]`);
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + begin + i * 4, true);
    tensors.set(name, { shape: [...entry.shape], data });
  }
  return { tensors, metadata };
}
