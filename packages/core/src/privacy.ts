/**
 * PII scrubbing for what the SDK stores and uploads: free text (search terms) and page
 * paths. Pure string work, no DOM or Node APIs (URL is global in both), so the browser
 * scrubs before storing and the collector scrubs again before trusting anything.
 *
 * Rules, in order (each placeholder replaces the whole match):
 *   [email]  local@domain.tld
 *   [iban]   2 letters, 2 check digits, 11-30 letters/digits (spaces every 4 allowed), mod-97 valid
 *   [card]   13-19 digits (spaces/dashes allowed) that pass Luhn, or any 16-19 digits in
 *            card grouping (4-4-4-4...): a mistyped card is still a card
 *   [id]     US SSN shape 123-45-6789
 *   [phone]  7-15 digits written like a phone number (see looksLikePhone), and any bare run
 *            of 9-15 digits: at that length it is a phone, order, account or tracking number
 *   [number] any other bare run of 16+ digits (an identifier of some kind)
 * Kept on purpose: sizes (42), years (2024), prices (19.99, 1.299.999), dates (2024-01-15),
 * ranges (1000-2000), SKUs (AB-1234), lists of small numbers (38 40 42 44), dotted quads.
 * Accepted loss: a bare 13-digit barcode typed into search is scrubbed like any long number.
 */
import type { EventName, EventParams } from './events.js';

/** The lookbehind starts a match only where a word starts: without it, long words cost O(n²). */
const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;
/** Printed (groups of 4) or compact IBANs; mod-97 decides (SKUs share the shape). */
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/gi;
/**
 * A number that may be written with phone or card punctuation: optional "+", single
 * spaces/dots/dashes between digits, parentheses around an area code. It may not start
 * inside a word, a decimal or a SKU ("AB-1234"), hence the lookbehind.
 */
const NUMBER = /(?<![\p{L}\p{N}_@.+\-/])(?:\+ ?)?\(?\d(?:\d|[ .-]\(?(?=\d)|\) ?-?(?=\d))*/gu;

/** Dotted quads are IP addresses or version numbers, not phones. */
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const DATE = /^(?:\d{4}([-.])\d{1,2}\1\d{1,2}|\d{1,2}([-.])\d{1,2}\2\d{4})$/;
const THOUSANDS = /^\d{1,3}(?:\.\d{3})+$/;
const SSN = /^\d{3}-\d{2}-\d{4}$/;
const CARD_GROUPS = /^\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?$/;

/** The Luhn checksum every payment card number carries. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: move the first 4 characters to the end, letters to 10..35, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  let rest = 0;
  for (const char of iban.slice(4) + iban.slice(0, 4)) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : char;
    for (const digit of value) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

function replaceIbans(text: string): string {
  return text.replace(IBAN, (match) => {
    // The pattern may swallow a following 4-letter word; retry without trailing groups.
    const parts = match.split(' ');
    for (let end = parts.length; end > 0; end--) {
      const candidate = parts.slice(0, end).join(' ');
      if (ibanValid(candidate)) return `[iban]${match.slice(candidate.length)}`;
    }
    return match;
  });
}

/** Phone punctuation decides, since the digit count alone cannot tell 2024-01-15 from 555-1234. */
function looksLikePhone(raw: string, digits: number): boolean {
  if (digits < 7 || digits > 15) return false;
  if (DATE.test(raw) || THOUSANDS.test(raw) || DOTTED_QUAD.test(raw)) return false;
  if (raw.startsWith('+') || raw.startsWith('(')) return true;
  const groups = raw.split(/[ .\-()]+/).filter(Boolean);
  if (groups.length === 1) return digits >= 9;
  // A national trunk prefix: 030 1234567, 06 12 34 56 78, 07700 900123.
  if (raw.startsWith('0') && digits >= 9) return true;
  if (/\(/.test(raw)) return true;
  const dashedOrDotted = /[.-]/.test(raw);
  if (dashedOrDotted && groups.length >= 3) return true;
  // Two groups: 555-1234 is a phone, 1000-2000 a range.
  if (dashedOrDotted && groups.length === 2) return groups[0]!.length === 3 && groups[1]!.length >= 4;
  // Spaces only: 555 123 4567 and 612 345 678 are, "sizes 38 40 42 44" and "1 299 999" are not.
  return digits >= 9 && groups.some((group) => group.length >= 3);
}

function classifyNumber(raw: string): string | undefined {
  const digits = raw.replace(/\D/g, '');
  const n = digits.length;
  if (n >= 13 && n <= 19 && !/[.()+]/.test(raw) && (luhnValid(digits) || CARD_GROUPS.test(raw))) return '[card]';
  if (SSN.test(raw)) return '[id]';
  if (looksLikePhone(raw, n)) return '[phone]';
  if (n >= 16 && /^\d+$/.test(raw)) return '[number]';
  return undefined;
}

function replaceNumbers(text: string): string {
  return text.replace(NUMBER, (match, offset: number) => {
    // A number glued to letters ("4567abc") is a code, not a phone.
    const next = text.charAt(offset + match.length);
    if (/[\p{L}_@]/u.test(next)) return match;
    const raw = match.replace(/[ (]+$/, '');
    const placeholder = classifyNumber(raw);
    return placeholder ? placeholder + match.slice(raw.length) : match;
  });
}

/** Replaces e-mail addresses, IBANs, card, phone and other identifying numbers with placeholders. */
export function scrubText(text: string): string {
  return replaceNumbers(replaceIbans(text.replace(EMAIL, '[email]')));
}

/**
 * Query parameters kept in a scrubbed path: navigation and catalogue facets that say what
 * the shopper looks at, never who they are. Everything else is dropped: shop platforms
 * invent parameters all the time, so only an allow-list is safe.
 */
export const ALLOWED_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'page', 'p', 'sort', 'sort_by', 'order_by', 'dir', 'view', 'limit', 'per_page',
  'category', 'cat', 'collection', 'brand', 'color', 'colour', 'size', 'variant',
  'min_price', 'max_price', 'price_min', 'price_max', 'filter', 'lang', 'currency',
  // Free text typed by the shopper: kept because it says what they want, values scrubbed.
  'q', 'query', 'search', 's', 'term', 'keyword', 'keywords',
  // Campaign-level attribution, the same for every recipient. utm_term / utm_content /
  // utm_id are dropped: e-mail campaigns put per-recipient ids (even addresses) there.
  'utm_source', 'utm_medium', 'utm_campaign',
]);

/**
 * Never kept, even when a shop adds them to the allow-list: they name a person, carry a
 * credential, or are click ids (gclid, fbclid, ...) that ad networks join to a profile.
 */
export const DENIED_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'email', 'e-mail', 'mail', 'phone', 'tel', 'mobile', 'name', 'firstname', 'first_name', 'lastname',
  'last_name', 'fullname', 'address', 'street', 'zip', 'postcode', 'postal_code', 'city', 'birthday', 'dob',
  'user', 'username', 'userid', 'user_id', 'uid', 'customer', 'customer_id', 'account', 'login',
  'token', 'access_token', 'id_token', 'refresh_token', 'auth', 'authorization', 'session', 'sessionid',
  'session_id', 'sid', 'key', 'apikey', 'api_key', 'password', 'pass', 'pwd', 'secret', 'code', 'otp',
  'signature', 'sig', 'hash', 'ticket', 'reset', 'order', 'order_id', 'invoice',
  'gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'yclid', 'ttclid', 'twclid', 'li_fat_id',
  'mc_eid', 'mc_cid', '_hsenc', '_hsmi', 'mkt_tok', 'utm_term', 'utm_content', 'utm_id',
]);
/** Substrings that deny a parameter whatever its exact name (customer_email, x-auth-token). */
const DENIED_PARTS = ['mail', 'phone', 'token', 'password', 'passwd', 'secret', 'session', 'sessid', 'clid'];

export function isDeniedParam(name: string): boolean {
  const lower = name.toLowerCase();
  return DENIED_QUERY_PARAMS.has(lower) || DENIED_PARTS.some((part) => lower.includes(part));
}

export interface ScrubPathOptions {
  /** Extra query parameters to keep (lower case); the deny-list still wins. */
  allowParams?: Iterable<string>;
}

/** A path segment that is a secret or an opaque id: a hex key, a UUID, a JWT, a reset token. */
const TOKEN_SEGMENT = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_~+=.-]{24,}$/;
const WORDY = /[A-Za-z]{4,}(?:-|$)/;

/** Percent-decodes a path segment ('+' is literal in paths; URLSearchParams decodes queries). */
function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Encodes like encodeURIComponent but leaves placeholders readable. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/%5B/g, '[').replace(/%5D/g, ']');
}

function scrubSegment(segment: string): string {
  if (segment === '') return segment;
  const text = decode(segment);
  const scrubbed = scrubText(text);
  if (scrubbed !== text) return encode(scrubbed);
  // Slugs ("blue-ceramic-mug-350ml") keep; opaque keys ("6f1c1d2e-0000-...") do not.
  if (TOKEN_SEGMENT.test(text) && !WORDY.test(text)) return '[token]';
  return segment;
}

/**
 * The path of a URL (or of a path) with identifying parts removed: never the host (so an
 * external URL does not leak where the shopper came from), never the fragment (SPAs and
 * auth flows put tokens there), query parameters only from the allow-list with scrubbed
 * values, path segments that hold an e-mail, phone, card or token replaced.
 */
export function scrubPath(pathOrUrl: string, options: ScrubPathOptions = {}): string {
  let url: URL;
  try {
    url = new URL(pathOrUrl.trim(), 'http://scrub.invalid/');
  } catch {
    return '/';
  }
  const allowed = new Set([...ALLOWED_QUERY_PARAMS, ...(options.allowParams ?? [])]);
  const path = url.pathname.split('/').map(scrubSegment).join('/');
  const query: string[] = [];
  for (const [name, value] of url.searchParams) {
    const lower = name.toLowerCase();
    if (!allowed.has(lower) || isDeniedParam(lower)) continue;
    query.push(`${encode(lower)}=${encode(scrubText(value))}`);
  }
  return query.length > 0 ? `${path}?${query.join('&')}` : path;
}

/**
 * Event parameters with the free-text ones scrubbed: what the shopper typed (search_term)
 * and where they were (page_path). Ids and categories come from the shop's catalogue.
 */
export function scrubParams(_name: EventName, params: EventParams): EventParams {
  const scrubbed: EventParams = { ...params };
  if (params.search_term !== undefined) scrubbed.search_term = scrubText(params.search_term);
  if (params.page_path !== undefined) scrubbed.page_path = scrubPath(params.page_path);
  return scrubbed;
}
