/**
 * The shop's data: the products and the cart. A real shop has its own product API; this example
 * takes the catalog the demo model was exported with (its catalog.json `products`, bundled by Vite
 * at build time: only that key, see vite.config.mjs), so every product the model recommends has a page.
 */
import { products as catalog } from '../../../models/demo/catalog.json';

export interface Product {
  id: string;
  title: string;
  price: number;
  category: string;
  description?: string;
}

export const CURRENCY = 'EUR';
export const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: CURRENCY });

const isProduct = (entry: Partial<Product>): entry is Product =>
  typeof entry.id === 'string' && typeof entry.title === 'string' && typeof entry.price === 'number' && typeof entry.category === 'string';

export const products: Product[] = (catalog as Array<Partial<Product>>).filter(isProduct);
export const productById = new Map(products.map((product) => [product.id, product]));
/** Category ids in catalog order. */
export const categories: string[] = [...new Set(products.map((product) => product.category))];

/** "mugs" → "Mugs"; the manifest has ids only. */
export const categoryName = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1).replace(/[-_]/g, ' ');

export const productPath = (id: string): string => `/product/${encodeURIComponent(id)}`;
export const categoryPath = (id: string): string => `/category/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------- the cart (localStorage)

export interface CartLine {
  id: string;
  quantity: number;
}

const CART_KEY = 'hunch-spa.cart';

export function cartLines(): CartLine[] {
  try {
    const lines: unknown = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]');
    if (!Array.isArray(lines)) return [];
    return lines.filter(
      (line): line is CartLine => typeof line?.id === 'string' && productById.has(line.id) && Number.isInteger(line.quantity) && line.quantity > 0,
    );
  } catch {
    return [];
  }
}

export function setCart(lines: CartLine[]): void {
  try {
    localStorage.setItem(CART_KEY, JSON.stringify(lines));
  } catch {
    // Storage full or disabled: the cart lives as long as the page.
  }
  cartListeners.forEach((listener) => listener(lines));
}

const cartListeners = new Set<(lines: CartLine[]) => void>();
export const onCartChange = (listener: (lines: CartLine[]) => void): void => void cartListeners.add(listener);

/** The cart as GA4 `items`, and its value. */
export function cartItems(lines: CartLine[] = cartLines()) {
  const items = lines.map(({ id, quantity }) => {
    const product = productById.get(id)!;
    return { item_id: id, item_category: product.category, price: product.price, quantity };
  });
  const value = Math.round(items.reduce((sum, item) => sum + item.price * item.quantity, 0) * 100) / 100;
  return { items, value };
}
