/**
 * Copy from templates: "Still thinking about {title}?" with each {slot} replaced by its value
 * for this shopper now. The result is plain text, shown with textContent (never HTML), so a
 * product title holding markup stays text.
 */

/** The slots a template may use. */
export const SLOTS: readonly string[] = [
  'title',
  'category',
  'price',
  'top_category',
  'cart_items',
  'cart_value',
  'left_to_free_shipping',
  'free_shipping_threshold',
];

const SLOT = /\{(\w+)\}/g;

/** The slot names a template uses, in order. */
export const slotsOf = (template: string): string[] => [...template.matchAll(SLOT)].map((match) => match[1]!);

/** The slots' values now; a slot absent here has no value (no product in focus, no threshold, ...). */
export type SlotValues = Partial<Record<string, string>>;

/** The template filled, or undefined when one of its slots has no value. */
export function fillTemplate(template: string, values: SlotValues): string | undefined {
  let missing = false;
  const text = template.replace(SLOT, (_, slot: string) => {
    const value = values[slot];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : text;
}
