/** Writes Hunch events as an NDJSON file, as `hunch simulate` or a collector would. */
import { writeFile } from 'node:fs/promises';
import type { HunchEvent } from '@hunch/core';

export async function writeEventsFile(path: string, events: readonly HunchEvent[], extraLines: string[] = []): Promise<void> {
  await writeFile(path, [...events.map((event) => JSON.stringify(event)), ...extraLines].map((line) => `${line}\n`).join(''));
}
