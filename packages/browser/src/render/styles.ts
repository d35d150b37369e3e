/**
 * The cards' default look, inside the element's shadow root. Shops theme it with CSS custom
 * properties on the element (or any ancestor) and restyle any piece with ::part(...): list,
 * card, link, image, title, price, reason, placeholder.
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
[part~="placeholder"] { min-height: 180px; background: var(--hunch-placeholder, #eee); border-radius: var(--hunch-radius, 8px); }
`;
