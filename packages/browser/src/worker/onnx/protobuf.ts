/**
 * Just enough protocol buffers to read and rewrite an ONNX model in the worker: walk a
 * message's fields (keeping each one's bytes, so that untouched fields are copied as they
 * are) and write the few fields a rewrite adds. No schema, no library: onnx.proto's field
 * numbers are in model-proto.ts.
 */

/** Protobuf wire types (how a field's value is laid out). */
export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface Field {
  number: number;
  wire: WireType;
  /** Varint fields: the value (ONNX's int64 fields here are far below 2^53). */
  value: number;
  /** Length-delimited fields: the payload; fixed32 / fixed64 fields: their 4 / 8 bytes (views on the message's bytes). */
  bytes: Uint8Array;
  /** The whole field, tag included: what a rewrite copies. */
  raw: Uint8Array;
}

/** Reads a varint at `at`; returns it and the offset after it. */
function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error('truncated protobuf varint');
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
    if (scale > 2 ** 63) throw new Error('protobuf varint too long');
  }
}

/** The fields of one message, in order. Throws on bytes that are not a protobuf message. */
export function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    const [tag, afterTag] = readVarint(bytes, at);
    at = afterTag;
    const number = Math.floor(tag / 8);
    const wire = (tag & 7) as WireType;
    let value = 0;
    let payload = bytes.subarray(at, at);
    if (wire === WireType.Varint) [value, at] = readVarint(bytes, at);
    else if (wire === WireType.Fixed64 || wire === WireType.Fixed32) {
      const size = wire === WireType.Fixed64 ? 8 : 4;
      payload = bytes.subarray(at, at + size);
      at += size;
    }
    else if (wire === WireType.Bytes) {
      const [length, afterLength] = readVarint(bytes, at);
      payload = bytes.subarray(afterLength, afterLength + length);
      at = afterLength + length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (at > bytes.length || number === 0) throw new Error('truncated or malformed protobuf message');
    out.push({ number, wire, value, bytes: payload, raw: bytes.subarray(start, at) });
  }
  return out;
}

const utf8 = new TextDecoder();
export const text = (field: Field): string => utf8.decode(field.bytes);

/** A repeated int64 field's values, packed or not. */
export function int64s(all: readonly Field[], number: number): number[] {
  const out: number[] = [];
  for (const field of all) {
    if (field.number !== number) continue;
    if (field.wire === WireType.Varint) out.push(field.value);
    else for (let at = 0; at < field.bytes.length; ) [out[out.length], at] = readVarint(field.bytes, at);
  }
  return out;
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** Writes fields into one message: copies of read fields and new ones. */
export class MessageWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  /** A field as read (tag and all). */
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  varint(number: number, value: number): this {
    return this.raw(Uint8Array.from([...varint(number * 8 + WireType.Varint), ...varint(value)]));
  }

  bytes(number: number, payload: Uint8Array): this {
    this.raw(Uint8Array.from([...varint(number * 8 + WireType.Bytes), ...varint(payload.length)]));
    return this.raw(payload);
  }

  string(number: number, value: string): this {
    return this.bytes(number, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
