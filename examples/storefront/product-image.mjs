// The demo shop's product pictures, drawn from the product's id and category: a simple icon per
// category (its `icon` in catalog.json) in the category's colour, varied per product (hue,
// background pattern, size, tilt, details) by a hash of the id. Deterministic, about 1 KB each,
// served by server.mjs as /img/<id>.svg, so no image files are stored.

/** FNV-1a: a stable 32-bit hash of the id, the source of every variation. */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function hexToHsl(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [h * 60, s, l];
}

const hsl = (h, s, l) => `hsl(${Math.round(((h % 360) + 360) % 360)} ${Math.round(s * 100)}% ${Math.round(l * 100)}%)`;

/** Icons in a 240 × 180 picture, centred near (120, 92). `c` main colour, `d` dark, `a` accent, `n` a per-product number. */
const ICONS = {
  mug: ({ c, a, n }) =>
    `<path d="M150 72h10a17 17 0 0 1 0 34h-10" fill="none" stroke="${c}" stroke-width="9"/><rect x="78" y="58" width="74" height="84" rx="10" fill="${c}"/>` +
    (n % 2 ? `<rect x="78" y="86" width="74" height="12" fill="${a}"/>` : `<circle cx="115" cy="100" r="14" fill="${a}"/>`) +
    `<path d="M100 48c-6-8 6-12 0-20M120 48c-6-8 6-12 0-20" stroke="${c}" stroke-width="4" fill="none" opacity=".5"/>`,
  leaf: ({ c, a, n }) =>
    `<path d="M120 36C174 58 172 122 120 148C68 122 66 58 120 36Z" fill="${c}"/><path d="M120 48V146" stroke="${a}" stroke-width="4"/>` +
    Array.from({ length: 2 + (n % 3) }, (_, i) => `<path d="M120 ${70 + i * 20}l${i % 2 ? 24 : -24} -14" stroke="${a}" stroke-width="3"/>`).join(''),
  shoe: ({ c, d, a }) =>
    `<path d="M52 128V92c0-9 9-13 17-10l30 9c11 4 19 9 27 15l33 7c15 3 30 9 30 21v4Z" fill="${c}"/><rect x="50" y="128" width="142" height="11" rx="5" fill="${d}"/>` +
    `<path d="M88 94l8 14M100 98l8 14M112 103l8 13" stroke="${a}" stroke-width="4"/>`,
  lamp: ({ c, d, a, n }) =>
    `<circle cx="120" cy="${n % 2 ? 104 : 96}" r="46" fill="${a}" opacity=".35"/><path d="M92 42h56l22 48H70Z" fill="${c}"/>` +
    `<rect x="116" y="90" width="8" height="46" fill="${d}"/><rect x="92" y="134" width="56" height="9" rx="4" fill="${d}"/>`,
  plant: ({ c, d, n }) => {
    const leaves = 3 + (n % 3);
    return Array.from({ length: leaves }, (_, i) => {
      const angle = -60 + (120 / (leaves - 1)) * i;
      return `<ellipse cx="120" cy="74" rx="12" ry="34" fill="${c}" transform="rotate(${angle.toFixed(0)} 120 108)"/>`;
    }).join('') + `<path d="M94 108h52l-8 40h-36Z" fill="${d}"/>`;
  },
  book: ({ c, d, a, n }) =>
    `<rect x="84" y="38" width="74" height="104" rx="4" fill="${c}"/><rect x="84" y="38" width="12" height="104" fill="${d}"/>` +
    `<rect x="106" y="${58 + (n % 3) * 8}" width="40" height="6" rx="3" fill="${a}"/><rect x="106" y="${72 + (n % 3) * 8}" width="28" height="5" rx="2" fill="${a}"/>`,
  bean: ({ c, a, n }) =>
    `<ellipse cx="120" cy="92" rx="40" ry="54" fill="${c}" transform="rotate(${n % 2 ? 25 : -25} 120 92)"/>` +
    `<path d="M${n % 2 ? '135 44C100 80 140 105 105 140' : '105 44C140 80 100 105 135 140'}" stroke="${a}" stroke-width="6" fill="none"/>`,
  candle: ({ c, a, n }) => {
    const h = 70 + (n % 3) * 10;
    return `<rect x="96" y="${146 - h}" width="48" height="${h}" rx="6" fill="${c}"/><path d="M120 ${146 - h}v-10" stroke="#333" stroke-width="3"/>` +
      `<path d="M120 ${118 - h}c10 12 8 22 0 24c-8-2-10-12 0-24Z" fill="#f7b731"/><rect x="96" y="${160 - h}" width="48" height="8" fill="${a}"/>`;
  },
  notebook: ({ c, a, n }) =>
    `<rect x="86" y="36" width="72" height="108" rx="5" fill="${c}"/>` +
    Array.from({ length: 5 }, (_, i) => `<circle cx="86" cy="${50 + i * 20}" r="5" fill="none" stroke="${a}" stroke-width="3"/>`).join('') +
    (n % 2 ? `<rect x="102" y="60" width="40" height="22" rx="3" fill="${a}"/>` : `<path d="M148 36v40l-6-6-6 6V36" fill="${a}"/>`),
  bag: ({ c, d, a, n }) =>
    `<path d="M98 66V56a22 22 0 0 1 44 0v10" fill="none" stroke="${d}" stroke-width="7"/><rect x="72" y="64" width="96" height="82" rx="${n % 2 ? 14 : 4}" fill="${c}"/>` +
    `<rect x="82" y="80" width="76" height="${n % 3 ? 6 : 24}" rx="3" fill="${a}"/>`,
  die: ({ c, a, n }) => {
    const dots = { 1: [[0, 0]], 2: [[-1, -1], [1, 1]], 3: [[-1, -1], [0, 0], [1, 1]], 4: [[-1, -1], [1, -1], [-1, 1], [1, 1]], 5: [[-1, -1], [1, -1], [0, 0], [-1, 1], [1, 1]], 6: [[-1, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [1, 1]] }[1 + (n % 6)];
    return `<g transform="rotate(${(n % 5) * 4 - 8} 120 92)"><rect x="78" y="50" width="84" height="84" rx="14" fill="${c}"/>` +
      dots.map(([x, y]) => `<circle cx="${120 + x * 24}" cy="${92 + y * 24}" r="8" fill="${a}"/>`).join('') + '</g>';
  },
  cushion: ({ c, a, n }) =>
    `<path d="M70 48Q120 62 170 48Q158 92 170 136Q120 122 70 136Q82 92 70 48Z" fill="${c}"/>` +
    (n % 2 ? `<circle cx="120" cy="92" r="7" fill="${a}"/>` : `<path d="M86 74h68M86 92h68M86 110h68" stroke="${a}" stroke-width="5"/>`),
  pan: ({ c, d, a }) =>
    `<rect x="146" y="86" width="62" height="12" rx="6" fill="${d}"/><circle cx="106" cy="92" r="50" fill="${c}"/><circle cx="106" cy="92" r="36" fill="none" stroke="${a}" stroke-width="4"/>`,
  headphones: ({ c, d, a, n }) =>
    `<path d="M72 110V92a48 48 0 0 1 96 0v18" fill="none" stroke="${d}" stroke-width="9"/>` +
    `<rect x="62" y="98" width="28" height="46" rx="10" fill="${c}"/><rect x="150" y="98" width="28" height="46" rx="10" fill="${c}"/>` +
    (n % 2 ? `<circle cx="76" cy="121" r="6" fill="${a}"/><circle cx="164" cy="121" r="6" fill="${a}"/>` : ''),
  box: ({ c, a }) => `<rect x="80" y="52" width="80" height="80" rx="8" fill="${c}"/><path d="M80 78h80" stroke="${a}" stroke-width="6"/>`,
};

const PATTERNS = [
  () => '',
  (tint) => `<pattern id="p" width="16" height="16" patternUnits="userSpaceOnUse"><circle cx="4" cy="4" r="2" fill="${tint}"/></pattern><rect width="240" height="180" fill="url(#p)"/>`,
  (tint) => `<pattern id="p" width="18" height="18" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="18" fill="${tint}"/></pattern><rect width="240" height="180" fill="url(#p)"/>`,
  (tint) => `<circle cx="120" cy="92" r="78" fill="${tint}"/>`,
];

/**
 * The SVG picture of `product` ({ id, category }), given the catalog's categories
 * ({ [category]: { colour, icon } }).
 */
export function productSvg(product, categories) {
  const info = categories[product.category] ?? {};
  const h = hash(product.id);
  const [hue, sat, light] = hexToHsl(info.colour ?? '#777777');
  const shift = ((h & 0xff) / 255) * 36 - 18;
  const c = hsl(hue + shift, Math.min(1, sat + 0.05), Math.min(0.6, Math.max(0.28, light + (((h >>> 8) & 0xf) / 15) * 0.16 - 0.08)));
  const d = hsl(hue + shift, sat * 0.6, 0.2);
  const accents = ['#ffffff', hsl(hue + 180, 0.55, 0.85), hsl(hue + 40, 0.7, 0.8), '#fdf6e3'];
  const a = accents[(h >>> 12) % accents.length];
  const background = hsl(hue + shift / 2, sat * 0.5, 0.93);
  const tint = hsl(hue + shift / 2, sat * 0.5, 0.86);
  const n = (h >>> 16) % 60;
  const scale = 0.9 + (((h >>> 22) & 0xf) / 15) * 0.2;
  const tilt = (((h >>> 26) & 0xf) / 15) * 12 - 6;
  const icon = (ICONS[info.icon] ?? ICONS.box)({ c, d, a, n });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="180" viewBox="0 0 240 180">` +
    `<rect width="240" height="180" fill="${background}"/>${PATTERNS[(h >>> 4) % PATTERNS.length](tint)}` +
    `<g transform="translate(120 92) rotate(${tilt.toFixed(1)}) scale(${scale.toFixed(2)}) translate(-120 -92)">${icon}</g></svg>`;
}
