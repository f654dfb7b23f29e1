/**
 * Writes the committed toy's `quals-step` graphs (onnx/decoder_step_quals.onnx, onnx/cross_kv_quals.onnx)
 * and their quals.json `graphs` record, rebuilt from the toy's own ONNX weights (int8-copy.ts
 * rebuildToy checks the rebuild is byte-identical first). Run after build-model.ts, or when the
 * step graphs' interface changes (STEP_GRAPHS_VERSION):
 *
 *   npx tsx models/tiny-qagen/step-graphs.ts [modelDir=models/tiny-qagen]
 */
import fs from 'node:fs';
import path from 'node:path';
import { STEP_FILES } from '../../src/models/model-files';
import { rebuildToy } from './int8-copy';

function main(): void {
  const dir = process.argv[2] ?? 'models/tiny-qagen';
  const tmp = fs.mkdtempSync(path.join(dir, '.step-'));
  try {
    rebuildToy(dir, tmp, false);
    for (const f of Object.values(STEP_FILES)) fs.renameSync(path.join(tmp, f), path.join(dir, f));
    const quals = JSON.parse(fs.readFileSync(path.join(dir, 'quals.json'), 'utf8')) as Record<string, unknown>;
    const rebuilt = JSON.parse(fs.readFileSync(path.join(tmp, 'quals.json'), 'utf8')) as { graphs: unknown };
    fs.writeFileSync(path.join(dir, 'quals.json'), JSON.stringify({ ...quals, graphs: rebuilt.graphs }, null, 2) + '\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${dir}: wrote ${Object.values(STEP_FILES).join(', ')} and quals.json "graphs"`);
}

main();
