// The bart-a reference fixture holds one 6.4 MB embedding (50,265 x 32 floats) five times over:
// in model.safetensors, pytorch_model.bin, encoder_model.onnx, and decoder_model_merged.onnx
// (as is and transposed for the LM head). The repository stores it once, in parts under 5 MiB,
// plus each file with those byte ranges cut out; this rebuilds the exact original files (checked
// against their sha256) next to the packed form. The files themselves are git-ignored.
//
//   node scripts/hf-fixtures.mjs            rebuild what is missing or stale (tests call ensureHfFixtures)
//   node scripts/hf-fixtures.mjs --pack     re-pack from the original files (after updating them)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'hf-reference', 'bart-a');
const PACKED = join(FIXTURE, 'packed');
const FILES = ['hf/model.safetensors', 'hf/pytorch_model.bin', 'onnx-layout/onnx/encoder_model.onnx', 'onnx-layout/onnx/decoder_model_merged.onnx'];
const ROWS = 50265;
const COLS = 32;
const PART_BYTES = 4 * 1024 * 1024;

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

function transpose(bytes, rows, cols) {
  const src = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return Buffer.from(out.buffer);
}

function embeddingFromSafetensors(file) {
  const d = readFileSync(file);
  const n = Number(d.readBigUInt64LE(0));
  const [a, b] = JSON.parse(d.subarray(8, 8 + n).toString('utf8'))['model.shared.weight'].data_offsets;
  return d.subarray(8 + n + a, 8 + n + b);
}

function pack() {
  const emb = embeddingFromSafetensors(join(FIXTURE, FILES[0]));
  const forms = { plain: emb, transposed: transpose(emb, ROWS, COLS) };
  mkdirSync(PACKED, { recursive: true });
  const parts = [];
  for (let i = 0; i * PART_BYTES < emb.length; i++) {
    const name = `embedding.part${i}`;
    writeFileSync(join(PACKED, name), emb.subarray(i * PART_BYTES, (i + 1) * PART_BYTES));
    parts.push(name);
  }
  const files = {};
  for (const f of FILES) {
    const data = readFileSync(join(FIXTURE, f));
    const cuts = [];
    for (const [kind, bytes] of Object.entries(forms)) {
      for (let at = data.indexOf(bytes); at >= 0; at = data.indexOf(bytes, at + bytes.length)) cuts.push({ at, kind });
    }
    cuts.sort((x, y) => x.at - y.at);
    const rest = [];
    let pos = 0;
    for (const c of cuts) {
      rest.push(data.subarray(pos, c.at));
      pos = c.at + emb.length;
    }
    rest.push(data.subarray(pos));
    const restName = `${f.replaceAll('/', '__')}.rest`;
    writeFileSync(join(PACKED, restName), Buffer.concat(rest));
    files[f] = { sha256: sha256(data), size: data.length, rest: restName, cuts };
  }
  const manifest = { embedding: { rows: ROWS, cols: COLS, bytes: emb.length, sha256: sha256(emb), parts }, files };
  writeFileSync(join(PACKED, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`packed ${FILES.length} files into ${PACKED}`);
}

/** Rebuilds every bart-a binary that is missing or differs from its recorded sha256. */
export function ensureHfFixtures() {
  const manifestPath = join(PACKED, 'manifest.json');
  if (!existsSync(manifestPath)) return;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const stale = Object.entries(manifest.files).filter(([f, m]) => {
    const p = join(FIXTURE, f);
    return !existsSync(p) || sha256(readFileSync(p)) !== m.sha256;
  });
  if (stale.length === 0) return;
  const e = manifest.embedding;
  const emb = Buffer.concat(e.parts.map((p) => readFileSync(join(PACKED, p))));
  if (emb.length !== e.bytes || sha256(emb) !== e.sha256) throw new Error(`${PACKED}: the embedding parts are damaged; restore them with git checkout.`);
  const forms = { plain: emb, transposed: transpose(emb, e.rows, e.cols) };
  for (const [f, m] of stale) {
    const rest = readFileSync(join(PACKED, m.rest));
    const chunks = [];
    let pos = 0;
    let restPos = 0;
    for (const c of m.cuts) {
      const literal = c.at - pos;
      chunks.push(rest.subarray(restPos, restPos + literal), forms[c.kind]);
      restPos += literal;
      pos = c.at + emb.length;
    }
    chunks.push(rest.subarray(restPos));
    const data = Buffer.concat(chunks);
    if (data.length !== m.size || sha256(data) !== m.sha256) throw new Error(`${f}: the rebuilt fixture does not match its sha256; restore ${PACKED} with git checkout.`);
    const out = join(FIXTURE, f);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.tmp`, data);
    renameSync(`${out}.tmp`, out);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--pack')) pack();
  else ensureHfFixtures();
}
