/**
 * The upload wire protocol: what the SDK POSTs to a collector and what the collector answers.
 * Shared by the browser uploader and any collector (Node or otherwise).
 *
 *   POST <collector>   body: UploadBatch as JSON (content-type application/json, or
 *                      text/plain from navigator.sendBeacon: parse the body whatever the type)
 *   200                UploadResponse: ids stored (`accepted`, duplicates included, since ids are
 *                      stable and storing twice is harmless) and ids that will never be accepted
 *                      (`rejected`); the client forgets both and resends any id in neither.
 *   400                the batch as a whole is unreadable; may carry an UploadResponse.
 *   413                the body is too large for this collector: the client splits it.
 *   429 / 5xx          try again later (Retry-After honoured).
 */
import { scrubParams } from './privacy.js';
import { validateEvent, type HunchEvent, type Validation } from './events.js';

export const UPLOAD_VERSION = 1;
/** Largest body a client sends: also the most navigator.sendBeacon queues at once. */
export const MAX_UPLOAD_BYTES = 65536;

export interface UploadBatch {
  v: typeof UPLOAD_VERSION;
  /** Client clock, ms since the epoch: lets a collector correct event timestamps for skew. */
  sentAt: number;
  events: HunchEvent[];
}

export interface UploadRejection {
  id: string;
  error: string;
}

export interface UploadResponse {
  accepted: string[];
  rejected: UploadRejection[];
}

export type ParsedUpload = { ok: true; batch: UploadBatch; rejected: UploadRejection[] } | { ok: false; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a batch on the collector side. One bad event rejects that event, not the batch; valid
 * events come back re-scrubbed (a collector never trusts the client's scrubbing) and once per id.
 */
export function parseUploadBatch(json: unknown): ParsedUpload {
  if (!isRecord(json)) return { ok: false, error: 'batch must be an object' };
  if (json.v !== UPLOAD_VERSION) return { ok: false, error: `unsupported batch version ${JSON.stringify(json.v)}` };
  if (typeof json.sentAt !== 'number' || !Number.isFinite(json.sentAt)) return { ok: false, error: 'sentAt must be a timestamp in ms' };
  if (!Array.isArray(json.events)) return { ok: false, error: 'events must be an array' };
  const events: HunchEvent[] = [];
  const rejected: UploadRejection[] = [];
  const seen = new Set<string>();
  json.events.forEach((candidate: unknown, index) => {
    const checked = validateEvent(candidate);
    if (!checked.ok) {
      // An event without a usable id is named by position; the client has nothing to forget.
      const id = isRecord(candidate) && typeof candidate.id === 'string' ? candidate.id : `#${index}`;
      rejected.push({ id, error: checked.error });
      return;
    }
    if (seen.has(checked.value.id)) return;
    seen.add(checked.value.id);
    events.push({ ...checked.value, params: scrubParams(checked.value.name, checked.value.params) });
  });
  return { ok: true, batch: { v: UPLOAD_VERSION, sentAt: json.sentAt, events }, rejected };
}

/** Reads a collector's answer on the client side; anything malformed is an error, never a throw. */
export function parseUploadResponse(json: unknown): Validation<UploadResponse> {
  if (!isRecord(json)) return { ok: false, error: 'response must be an object' };
  const accepted = json.accepted ?? [];
  const rejected = json.rejected ?? [];
  if (!Array.isArray(accepted) || !accepted.every((id) => typeof id === 'string')) return { ok: false, error: 'accepted must be an array of ids' };
  if (!Array.isArray(rejected) || !rejected.every((r) => isRecord(r) && typeof r.id === 'string')) {
    return { ok: false, error: 'rejected must be an array of { id, error }' };
  }
  return {
    ok: true,
    value: {
      accepted: accepted as string[],
      rejected: (rejected as Array<Record<string, unknown>>).map((r) => ({ id: r.id as string, error: typeof r.error === 'string' ? r.error : 'rejected' })),
    },
  };
}

/** UTF-8 length of a string without encoding it (JSON.stringify escapes lone surrogates). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

export interface UploadChunk {
  /** The JSON text of one UploadBatch, at most maxBytes long in UTF-8. */
  body: string;
  bytes: number;
  /** The ids it carries, in order, to acknowledge from the answer. */
  ids: string[];
}

export interface Chunked {
  chunks: UploadChunk[];
  /** Events that alone exceed maxBytes: they can never be sent. */
  oversized: HunchEvent[];
}

/**
 * Packs events, in order, into as few UploadBatch bodies of at most maxBytes (UTF-8) as
 * possible. Bodies are built by concatenation, byte-identical to JSON.stringify(batch).
 */
export function chunkEvents(events: readonly HunchEvent[], maxBytes: number = MAX_UPLOAD_BYTES, sentAt: number = Date.now()): Chunked {
  const head = `{"v":${UPLOAD_VERSION},"sentAt":${JSON.stringify(sentAt)},"events":[`;
  const tail = ']}';
  const frame = utf8Length(head) + tail.length;
  const chunks: UploadChunk[] = [];
  const oversized: HunchEvent[] = [];
  let parts: string[] = [];
  let ids: string[] = [];
  let bytes = frame;
  const close = () => {
    if (parts.length > 0) chunks.push({ body: head + parts.join(',') + tail, bytes, ids });
    parts = [];
    ids = [];
    bytes = frame;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = utf8Length(json);
    if (frame + size > maxBytes) {
      oversized.push(event);
      continue;
    }
    const added = size + (parts.length > 0 ? 1 : 0);
    if (bytes + added > maxBytes) close();
    bytes += size + (parts.length > 0 ? 1 : 0);
    parts.push(json);
    ids.push(event.id);
  }
  close();
  return { chunks, oversized };
}
