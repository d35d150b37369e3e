/**
 * Site search: one delegated `submit` listener on the document (capture phase, so it runs
 * even when the shop's SPA handler cancels the submit and routes itself). Only forms marked as
 * search forms are read, never other forms: a newsletter or login form holds personal data.
 */
import { SEARCH_ATTR } from './attributes.js';
import { elementOf } from './dom.js';
import { guard, type Track } from './guard.js';

/** A search form: marked by us, by ARIA, or inside the HTML <search> element. */
const SEARCH_FORM = `form[${SEARCH_ATTR}], form[role="search"], [role="search"] form, search form`;
/** Where the query is, most explicit first. */
const QUERY_INPUTS = [
  `[${SEARCH_ATTR}-input]`,
  'input[type="search"]',
  'input[name="q"]',
  'input[name="query"]',
  'input[name="search"]',
  'input[name="s"]',
];
/** The event schema's limit for strings. */
const MAX_TERM = 500;

/** The trimmed query a search form holds, or undefined when it is not one or is empty. */
export function searchTerm(form: Element): string | undefined {
  if (!form.matches(SEARCH_FORM)) return undefined;
  for (const selector of QUERY_INPUTS) {
    const input = form.querySelector(selector);
    if (!input || !('value' in input)) continue;
    const term = String(input.value).trim().slice(0, MAX_TERM);
    return term || undefined;
  }
  return undefined;
}

export function captureSearch(doc: Document, track: Track): () => void {
  const listener = guard('search capture', (event: Event) => {
    const form = elementOf(event.target);
    const term = form ? searchTerm(form) : undefined;
    if (term) track('search', { search_term: term });
  });
  const options = { capture: true, passive: true } as const;
  doc.addEventListener('submit', listener, options);
  return () => doc.removeEventListener('submit', listener, options);
}
