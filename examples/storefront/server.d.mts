export interface Storefront {
  /** Base URL, ending in '/'. */
  url: string;
  close(): Promise<void>;
}
export interface StorefrontOptions {
  port?: number;
  host?: string;
  modelsDir?: string;
  /** The collector's upload URL: the page uploads its events there. */
  collector?: string;
  /** Share of shoppers in the global holdout (the script tag's data-holdout). */
  holdout?: number;
  /** Run the demo's experiments (app.js): the "For you" section's model vs popular. */
  experiments?: boolean;
  /** Answers /report: the live experiment report's HTML. */
  report?: () => Promise<string>;
}
export function startStorefront(options?: StorefrontOptions): Promise<Storefront>;
