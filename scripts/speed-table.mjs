#!/usr/bin/env node
/**
 * Rewrites the README's Speed table from bench/results/latest.json (the last `npm run bench`):
 * the 100k workload as operation × format cells, "seconds (ratio / target)", misses marked.
 * Run `npm run build:app` (or `npm run bench`) first: it uses the bench's own verdict().
 *   node scripts/speed-table.mjs          rewrite README.md between the speed-table markers
 *   node scripts/speed-table.mjs --print  print the table only
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { verdict } = await import(path.join(root, 'dist/app/bench/report.js'));
const { rows } = JSON.parse(readFileSync(path.join(root, 'bench/results/latest.json'), 'utf8'));

const WORKLOAD = '100,000 × 384';
const FORMATS = [
  ['binary', 'binary'],
  ['sqlite', 'SQLite'],
  ['json', 'JSON'],
];
// Every operation uncompressed, then what compression changes most: saves and loads.
const LINES = [
  ...['save', 'load', 'snapshot create', 'verify', 'restore', 'incremental 1%', 'compare', 'export', 'import'].map((op) => [op, 'none', op]),
  ...['gzip', 'brotli'].flatMap((c) => ['save', 'load'].map((op) => [op, c, `${op}, ${c}`])),
];

function cell(row) {
  if (!row) return '–';
  const ratio = row.seconds / row.limitSeconds;
  const target = row.absoluteTarget !== undefined ? `target < ${row.absoluteTarget} s` : `${ratio.toFixed(2)}× / ≤ ${row.target.toFixed(2)}×`;
  const v = verdict(row);
  const missed = v === 'met' ? '' : ` **${v.replace('MISSED', 'missed')}**`;
  return `${row.seconds.toFixed(2)} s (${target})${missed}`;
}

const table = [
  `| ${WORKLOAD} | ${FORMATS.map(([, label]) => label).join(' | ')} |`,
  `|---|${FORMATS.map(() => '---').join('|')}|`,
  ...LINES.map(([operation, compression, label]) => {
    const cells = FORMATS.map(([format]) =>
      cell(rows.find((r) => r.workload === WORKLOAD && r.operation === operation && r.format === format && r.compression === compression)),
    );
    return `| ${label} | ${cells.join(' | ')} |`;
  }),
].join('\n');

if (process.argv.includes('--print')) {
  console.log(table);
} else {
  const readme = path.join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- speed-table -->';
  const end = '<!-- /speed-table -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} markers.`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`);
  console.log('README.md: Speed table rewritten from bench/results/latest.json');
}
