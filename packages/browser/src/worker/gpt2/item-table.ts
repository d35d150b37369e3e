/**
 * The item table's initializers in a Hunch export (core's model contract): int8 codes and a
 * scale per row (int8), or pq codes and codebooks (pq). weights.ts reads the rest.
 */
import { ITEM_TABLE, PQ_CENTROIDS, int8Codes, int8Scales, pqCodebooks, pqCodes, pqRotation } from '@hunch/core';
import type { ItemTable } from '../item-head/item-table.js';
import { DATA_TYPE, floats, int8s, type Initializer } from '../onnx/model-proto.js';

/** weights.ts's reader: the initializer when it has this type and shape (and marks it used), else undefined. */
type TensorReader = (name: string, dataType: number, dims: readonly number[]) => (Initializer & { data: Uint8Array }) | undefined;

/** The table, or undefined when the graph has neither form complete. */
export function readItemTable(initializers: ReadonlyMap<string, Initializer>, tensor: TensorReader): ItemTable | undefined {
  const int8 = initializers.get(int8Codes(ITEM_TABLE));
  if (int8?.dims.length === 2) {
    const [rows, width] = int8.dims as [number, number];
    const codes = tensor(int8Codes(ITEM_TABLE), DATA_TYPE.int8, [rows, width]);
    const scales = tensor(int8Scales(ITEM_TABLE), DATA_TYPE.float, [rows, 1]);
    return codes && scales && width > 0 ? { kind: 'int8', rows, width, codes: int8s(codes.data), scales: floats(scales.data) } : undefined;
  }
  const pq = initializers.get(pqCodes(ITEM_TABLE));
  const books = initializers.get(pqCodebooks(ITEM_TABLE));
  if (pq?.dims.length !== 2 || books?.dims.length !== 2) return undefined;
  const [rows, subspaces] = pq.dims as [number, number];
  const sub = books.dims[1]!;
  const codes = tensor(pqCodes(ITEM_TABLE), DATA_TYPE.uint8, [rows, subspaces]);
  const codebooks = tensor(pqCodebooks(ITEM_TABLE), DATA_TYPE.float, [subspaces * PQ_CENTROIDS, sub]);
  if (!codes || !codebooks || !(rows > 0 && subspaces > 0 && sub > 0)) return undefined;
  const width = subspaces * sub;
  // OPQ exports carry a rotation; older ones (and plain pq) have none.
  const rotation = initializers.has(pqRotation(ITEM_TABLE)) ? tensor(pqRotation(ITEM_TABLE), DATA_TYPE.float, [width, width]) : undefined;
  if (initializers.has(pqRotation(ITEM_TABLE)) && !rotation) return undefined;
  return {
    kind: 'pq',
    rows,
    width,
    subspaces,
    codes: new Uint8Array(codes.data.buffer, codes.data.byteOffset, codes.data.length),
    codebooks: floats(codebooks.data),
    ...(rotation ? { rotation: floats(rotation.data) } : {}),
  };
}
