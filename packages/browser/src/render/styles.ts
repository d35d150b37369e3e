/**
 * The cards' default look, inside the element's shadow root. Shops theme it with CSS custom
 * properties on the element (or any ancestor) and restyle any piece with ::part(...): list,
 * card, link, image, title, price, reason, placeholder.
 *
 * The rules reach a shadow root as a constructable stylesheet (adoptedStyleSheets), one for the
 * whole page: a Content-Security-Policy's style-src governs <style> elements and style
 * attributes, not these, so the cards are styled under `style-src 'self'` too. A browser without
 * constructable stylesheets (Safari before 16.4) gets a <style> element, which such a policy refuses.
 */
export const CARD_STYLES = `
:host { display: block; font: inherit; color: var(--hunch-text, inherit); }
[part~="list"] { display: grid; gap: var(--hunch-gap, 16px); grid-template-columns: repeat(auto-fill, minmax(var(--hunch-card-width, 160px), 1fr)); list-style: none; margin: 0; padding: 0; }
[part~="card"] { background: var(--hunch-card-background, transparent); border-radius: var(--hunch-radius, 8px); overflow: hidden; }
[part~="link"] { color: inherit; text-decoration: none; display: flex; flex-direction: column; gap: 4px; }
[part~="link"]:focus-visible { outline: 2px solid var(--hunch-accent, currentColor); outline-offset: 2px; }
[part~="image"] { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; background: var(--hunch-placeholder, #eee); border-radius: var(--hunch-radius, 8px); }
[part~="title"] { font-weight: 600; }
[part~="price"] { color: var(--hunch-accent, inherit); }
[part~="reason"] { color: var(--hunch-muted, #666); font-size: .85em; }
[part~="list"][aria-hidden] { visibility: hidden; }
[part~="placeholder"] { min-height: 180px; background: var(--hunch-placeholder, #eee); border-radius: var(--hunch-radius, 8px); }
`;

/** The page's sheet of each style text (made on first use); null where constructable stylesheets are missing. */
const sheets = new Map<string, CSSStyleSheet | null>();

/** Styles `root` with `css` (one sheet per page, shared by every root), once however often it is mounted. */
export function adoptStyles(root: ShadowRoot, css: string): void {
  let sheet = sheets.get(css);
  if (sheet === undefined) {
    try {
      sheet = 'adoptedStyleSheets' in root ? new CSSStyleSheet() : null;
      sheet?.replaceSync(css);
    } catch {
      sheet = null; // CSSStyleSheet is not constructable here
    }
    sheets.set(css, sheet);
  }
  if (sheet) {
    if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } else if (!root.querySelector('style')) {
    const style = document.createElement('style');
    style.textContent = css;
    root.append(style);
  }
}

/** Styles `root` with CARD_STYLES. */
export const adoptCardStyles = (root: ShadowRoot): void => adoptStyles(root, CARD_STYLES);

/**
 * <hunch-slot>'s default look: the same custom properties as the cards, and ::part(slot | link |
 * message | meter | reason).
 */
export const SLOT_STYLES = `
:host { display: block; font: inherit; color: var(--hunch-text, inherit); }
[part~="slot"] { display: flex; flex-direction: column; gap: 6px; padding: var(--hunch-slot-padding, 12px 16px); background: var(--hunch-card-background, transparent); border-radius: var(--hunch-radius, 8px); color: inherit; text-decoration: none; }
[part~="slot"]:focus-visible { outline: 2px solid var(--hunch-accent, currentColor); outline-offset: 2px; }
[part~="message"] { font-weight: 600; }
[part~="meter"] { width: 100%; accent-color: var(--hunch-accent, currentColor); }
[part~="reason"] { color: var(--hunch-muted, #666); font-size: .85em; }
`;
