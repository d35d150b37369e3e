/**
 * Streams a text file line by line, gunzipping it on the fly when its name ends in `.gz`,
 * so datasets of any size are read without holding the file in memory.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface NumberedLine {
  /** The line without its terminator (`\n` or `\r\n`). */
  line: string;
  /** 1-based line number in the (decompressed) file. */
  number: number;
}

/** Why a file could not be read, in a few words. */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return 'not a valid gzip file';
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** An Error with a one-line message naming the file; the original error is its `cause`. */
export function fileError(path: string, error: unknown): Error {
  return new Error(`Cannot read ${path}: ${reason(error)}`, { cause: error });
}

function opened(stream: Readable): Promise<void> {
  // Surface open errors (ENOENT, EISDIR) before reading starts.
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

/**
 * Yields every line of `path` with its 1-based number (a final line without a terminator
 * included; no empty line after a final terminator). A missing, unreadable or corrupt file
 * rejects with an Error whose message names the file.
 */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const file = createReadStream(path);
  try {
    await opened(file);
  } catch (error) {
    throw fileError(path, error);
  }
  let input: Readable = file;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    // pipeline forwards read errors into the gunzip stream, where the loop below sees them.
    input = pipeline(file, gunzip, () => undefined);
  }
  input.setEncoding('utf8');
  let pending = '';
  let number = 0;
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      pending += chunk;
      let start = 0;
      let end: number;
      while ((end = pending.indexOf('\n', start)) !== -1) {
        const stop = end > start && pending.charCodeAt(end - 1) === 13 ? end - 1 : end;
        yield { line: pending.slice(start, stop), number: ++number };
        start = end + 1;
      }
      pending = pending.slice(start);
    }
  } catch (error) {
    throw fileError(path, error);
  } finally {
    file.destroy();
  }
  if (pending !== '') yield { line: pending.endsWith('\r') ? pending.slice(0, -1) : pending, number: ++number };
}
