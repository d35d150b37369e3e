// `npm run bench:pq -- [--rows N] [--width D]`: the pq export's cost at a catalog size no dataset
// here has: a generated [N, D] item table (seeded standard normals; default a million rows of
// 64), quantized as `hunch export --quant pq` does by default (the sub-spaces of pqSubspaces,
// OPQ's rotation rounds, k-means on 65,536 sampled rows, every row encoded). Prints the seconds
// of each phase and writes BENCHMARKS.md's `pq-export-speed` section; JSON as the last line.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { uniforms } from './lib/random.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { quantizePq, pqSubspaces } = await import(join(root, 'packages', 'trainer', 'dist', 'index.js'));
const { values: flags } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, width: { type: 'string', default: '64' }, section: { type: 'string', default: 'pq-export-speed' } } });
const rows = Number(flags.rows);
const width = Number(flags.width);
if (!(Number.isInteger(rows) && rows > 0 && Number.isInteger(width) && width > 0)) throw new Error('--rows and --width: positive integers');

const uniform = uniforms(29);
const table = new Float32Array(rows * width);
for (let i = 0; i < table.length; i++) table[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

const timings = {};
const started = performance.now();
const pq = quantizePq(table, rows, width, { timings });
const seconds = (performance.now() - started) / 1000;
const result = { rows, width, subspaces: pq.subspaces, default_subspaces: pqSubspaces(width, rows), rotation: pq.rotation !== undefined, seconds: +seconds.toFixed(1), ...Object.fromEntries(Object.entries(timings).map(([phase, s]) => [`${phase}_s`, +s.toFixed(1)])) };
console.error(JSON.stringify(result));

const command = `npm run bench:pq${flags.rows !== '1000000' ? ` -- --rows ${flags.rows}` : ''}${flags.width !== '64' ? ` --width ${flags.width}` : ''}`;
replaceSection(
  join(root, 'BENCHMARKS.md'),
  flags.section,
  [
    `## pq export speed: a generated ${rows.toLocaleString('en')} x ${width} item table — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`${command}\` — Node ${process.versions.node}, one thread; the default pq quantization (${pq.subspaces} sub-spaces, ${pq.rotation ? 'with' : 'without'} OPQ's rotation).`,
    '',
    '| rows | sub-spaces | rotation s | codebooks s | encoding s | total s |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${rows.toLocaleString('en')} | ${pq.subspaces} | ${result.rotation_s} | ${result.codebooks_s} | ${result.encoding_s} | ${result.seconds} |`,
  ].join('\n'),
);
console.log(JSON.stringify(result));
