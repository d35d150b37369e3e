/** Only http(s) links and images reach the page: a `javascript:` or `data:` URL in a catalog is dropped. */
export function safeUrl(url: string | undefined, base = document.baseURI): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, base);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
