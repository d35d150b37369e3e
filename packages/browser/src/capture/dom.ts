/** Small DOM helpers shared by the delegated listeners and the MutationObservers. */

/** The element an event happened on (a Text node's parent when the target is text). */
export function elementOf(target: EventTarget | null): Element | null {
  const node = target as Node | null;
  if (!node || typeof node.nodeType !== 'number') return null;
  return node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
}

/**
 * The elements added in `records` that are still in the page, less those inside another of
 * them. While a page is parsed, or an SPA renders, one batch holds a node and many of its
 * descendants: searching only the topmost ones reads each subtree once, not once per ancestor.
 */
export function addedRoots(records: MutationRecord[]): Element[] {
  const added = new Set<Element>();
  for (const record of records) {
    record.addedNodes.forEach((node) => {
      if (node.nodeType === Node.ELEMENT_NODE && node.isConnected) added.add(node as Element);
    });
  }
  return [...added].filter((element) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) if (added.has(parent)) return false;
    return true;
  });
}
