/**
 * The safetensors format (what Hugging Face loads): an 8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. Only float32 is needed here.
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
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`tensor ${name}: ${tensor.data.length} values do not fill shape [${tensor.shape.join(', ')}]`);
    }
    const bytes = tensor.data.length * 4;
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    if (isLittleEndian) {
      out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    } else {
      tensor.data.forEach((value, i) => view.setFloat32(position + i * 4, value, true));
    }
    position += tensor.data.byteLength;
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
