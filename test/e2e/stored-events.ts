import type { Page } from 'playwright-core';

/** The SDK's stored events read with the raw IndexedDB API (not through the SDK), in time order. */
export function readStoredEvents<T>(page: Page): Promise<T[]> {
  return page.evaluate(
    () =>
      new Promise<unknown[]>((resolve, reject) => {
        const open = indexedDB.open('hunch');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('events').objectStore('events').index('ts').getAll();
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result);
          };
          request.onerror = () => reject(request.error);
        };
      }),
  ) as Promise<T[]>;
}
