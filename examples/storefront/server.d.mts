export interface Storefront {
  /** Base URL, ending in '/'. */
  url: string;
  close(): Promise<void>;
}
export function startStorefront(options?: { port?: number; host?: string; modelsDir?: string; collector?: string }): Promise<Storefront>;
