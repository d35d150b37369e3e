/**
 * A random RFC 4122 v4 UUID. crypto.randomUUID where the browser has it (secure contexts), else
 * the same from getRandomValues, drawn 256 ids at a time: track() makes one per event and this
 * keeps it to a few allocation-free microseconds.
 */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const POOL_IDS = 256;
let pool = new Uint8Array(0);
let next = 0;

export function uuidFromRandomBytes(): string {
  if (next >= pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(16 * POOL_IDS));
    next = 0;
  }
  const b = pool;
  const i = next;
  next += 16;
  const h = (k: number) => HEX[b[i + k]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${HEX[(b[i + 6]! & 0x0f) | 0x40]}${h(7)}-${HEX[(b[i + 8]! & 0x3f) | 0x80]}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

export function uuid(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : uuidFromRandomBytes();
}
