import type { Browser } from 'playwright-core';
export const CHROMIUM_PATH: string;
export function launchChromium(options: { webgpu: boolean; args?: string[] }): Promise<Browser>;
