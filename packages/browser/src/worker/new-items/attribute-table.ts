/**
 * The model's attribute table (core's item-attributes.ts ATTRIBUTE_FILE, safetensors): each
 * attribute name's int8 vector with its scale, and its bias when the model has an item bias.
 */
import { ATTR_BIAS, ATTR_TABLE, ATTRIBUTE_NAMES_KEY, int8Codes, int8Scales } from '@hunch/core';

export interface AttributeTable {
  /** Attribute name -> row. */
  rows: ReadonlyMap<string, number>;
  width: number;
  /** [rows, width] int8 codes: row r is codes[r] * scales[r]. */
  codes: Int8Array;
  scales: Float32Array;
  bias: Float32Array | undefined;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads the attribute file; throws saying what is wrong with it. */
export function readAttributeTable(bytes: Uint8Array): AttributeTable {
  const fail = (why: string): never => {
    throw new Error(`attribute file: ${why}`);
  };
  if (bytes.length < 8) fail('shorter than its header length');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.length) fail('header length exceeds the file');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, HeaderEntry> & { __metadata__?: Record<string, string> };
  const data = bytes.subarray(8 + headerLength);
  const tensor = (name: string, dtype: string, size: number): Uint8Array | undefined => {
    const entry = header[name];
    if (!entry) return undefined;
    const [begin, end] = entry.data_offsets;
    if (entry.dtype !== dtype || !(begin >= 0 && end <= data.length && end - begin === size)) fail(`tensor ${name} is not ${dtype} of ${size} bytes`);
    return new Uint8Array(data.subarray(begin, end)); // a copy of its own: aligned for the typed array views
  };
  const names = JSON.parse(header.__metadata__?.[ATTRIBUTE_NAMES_KEY] ?? 'null') as unknown;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) fail(`no ${ATTRIBUTE_NAMES_KEY} in its metadata`);
  const count = (names as string[]).length;
  const shape = header[int8Codes(ATTR_TABLE)]?.shape;
  if (!shape || shape.length !== 2 || shape[0] !== count || !(shape[1]! > 0)) fail(`${int8Codes(ATTR_TABLE)} is not [${count}, width]`);
  const width = shape![1]!;
  const codes = tensor(int8Codes(ATTR_TABLE), 'I8', count * width) ?? fail(`no ${int8Codes(ATTR_TABLE)}`);
  const scales = tensor(int8Scales(ATTR_TABLE), 'F32', count * 4) ?? fail(`no ${int8Scales(ATTR_TABLE)}`);
  const bias = tensor(ATTR_BIAS, 'F32', count * 4);
  return {
    rows: new Map((names as string[]).map((name, row) => [name, row])),
    width,
    codes: new Int8Array(codes.buffer),
    scales: new Float32Array(scales.buffer),
    bias: bias && new Float32Array(bias.buffer),
  };
}
