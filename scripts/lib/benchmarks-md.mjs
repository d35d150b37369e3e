// BENCHMARKS.md holds one section per benchmark, between HTML comment markers, so each
// `npm run bench:*` rewrites its own figures and leaves the others alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const HEADER = '# Benchmarks\n\nEvery figure here was printed by the command beside it, on the 2-core CI-class machine unless said otherwise.\n';

export function replaceSection(path, name, body) {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
