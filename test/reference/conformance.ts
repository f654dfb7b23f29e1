/**
 * The reference conformance suite: checks the engine against outputs of code nobody on the team
 * wrote (Hugging Face transformers and Optimum).
 *
 *   npm run test:reference -- [DIR...]     (default: test/fixtures/hf-reference)
 *
 * Every folder under DIR holding a reference.json is a model: `onnx-layout/` (a genuine Optimum
 * export) is checked as loaded, and `hf/` (a Hugging Face checkpoint) as imported, once from
 * model.safetensors and once from pytorch_model.bin, whichever exist. Per model variant it prints
 * one line with the largest differences, and it exits non-zero on any failure. Each onnx-layout is
 * also checked against HF's beam searches (hf-search-checks.ts), and a folder with a
 * fairseq-reference.json against the QUALS authors' fairseq code (fairseq-checks.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFairseqReference, hasFairseqReference } from './fairseq-checks';
import { ensureHfFixtures } from '../../scripts/hf-fixtures.mjs';
import { checkHfReference, type VariantReport } from './hf-checks';
import { checkHfSearch } from './hf-search-checks';

const args = process.argv.slice(2);
const roots = args.length ? args : [path.join(__dirname, '..', 'fixtures', 'hf-reference')];

function modelFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist`);
  if (fs.existsSync(path.join(dir, 'reference.json'))) return [dir];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => modelFolders(path.join(dir, e.name)));
}

async function main(): Promise<number> {
  ensureHfFixtures();
  const folders = roots.flatMap(modelFolders);
  if (folders.length === 0) {
    console.error(`test:reference: no reference.json under ${roots.join(', ')}`);
    return 1;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-reference-'));
  const reports: VariantReport[] = [];
  try {
    for (const dir of folders) {
      reports.push(...(await checkHfReference(dir, work)));
      reports.push(...(await checkHfSearch(dir, work)));
      if (hasFairseqReference(dir)) reports.push(...(await checkFairseqReference(dir)));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const failed = reports.filter((r) => r.failures.length > 0);
  for (const r of failed) for (const f of r.failures) console.log(`  FAIL ${r.name}: ${f}`);
  console.log(`test:reference: ${reports.length - failed.length} passed, ${failed.length} failed (${folders.length} model folder${folders.length === 1 ? '' : 's'})`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
