// `npm run demo`: scores the example summaries in examples/ with the bundled CLI (dist/cli.js) and
// the tiny trained toy model, printing each report with its flagged spans.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const model = path.join(root, 'models', 'tiny-qagen');
const examples = path.join(root, 'examples');

const pairs = [
  { source: 'boxing.md', summary: 'boxing.summary.md', note: 'garbled: the winner is swapped with another boxer from the source' },
  ...['football', 'travel', 'league'].map((name) => ({
    source: `sources/${name}.txt`,
    summary: `summaries/${name}.txt`,
    note: { football: 'faithful', travel: 'garbled: invented birthplace', league: 'garbled: wrong number of games' }[name],
  })),
];

if (!fs.existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm run build` first (or `npm run demo`, which builds).');
  process.exit(1);
}

const banner = '='.repeat(78);
console.log(banner);
console.log('QUALS demo with the TINY TOY MODEL (models/tiny-qagen): trained on synthetic sports news');
console.log('in a closed vocabulary of 305 words. It shows how QUALS flags garbled facts;');
console.log('it is NOT a fact-checker for real text. Bring a real QAGen model for that (README).');
console.log(banner);

let failed = 0;
for (const p of pairs) {
  const src = path.join(examples, p.source);
  const sum = path.join(examples, p.summary);
  console.log(`\n### examples/${p.summary}  (${p.note})`);
  console.log(`source:  ${fs.readFileSync(src, 'utf8').trim()}`);
  console.log(`summary: ${fs.readFileSync(sum, 'utf8').trim()}\n`);
  const r = spawnSync(process.execPath, [cli, 'score', '--source', src, '--summary', sum, '--model', model, '--device', 'cpu'], {
    encoding: 'utf8',
  });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.status !== 0) {
    failed++;
    console.log(`(quals score exited with ${r.status ?? r.signal})`);
  }
}
console.log(`\n${banner}\nA dataset version of such pairs is in examples/news.jsonl (fields document, summary, label).`);
process.exitCode = failed ? 1 : 0;
