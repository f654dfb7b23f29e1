/**
 * "QUALS: Choose Model...": the recommended list (data), the picker's rows, what each choice does,
 * the package.json contributions (command, walkthrough, media) and the server's quals/prepareModel
 * logic with fake download/import functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLicense, formatSize, RECOMMENDED_MODELS } from '../../src/models/recommended';
import { isHubIdSyntax } from '../../src/models/model-files';
import {
  actionFor,
  CHECKPOINT_LABEL,
  checkpointAction,
  classifyFolder,
  FOLDER_LABEL,
  hubLabel,
  importDirFor,
  parseExtraModels,
  pickerItems,
  pickerModels,
} from '../../src/client/model-picker-logic';
import { downloadReport, importReport, prepareModel, throttleReports, type PrepareDeps } from '../../src/server/prepare-model';
import { CancelledError, ModelError } from '../../src/scoring/errors';

const ROOT = new URL('../../', import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, ROOT), 'utf8');
const pkg = JSON.parse(read('package.json'));
const BART_ONNX = new URL('test/fixtures/hf-reference/bart-a/onnx-layout', ROOT).pathname;
const BART_HF = new URL('test/fixtures/hf-reference/bart-a/hf', ROOT).pathname;

test('the recommended models: valid, distinct hub ids with size, license and purpose; unknowns marked', () => {
  const ids = RECOMMENDED_MODELS.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  for (const id of ['lmqg/t5-small-squad-qag', 'lmqg/t5-base-squad-qag', 'lmqg/t5-large-squad-qag', 'lmqg/bart-base-squad-qag', 'lmqg/bart-large-squad-qag']) {
    assert.ok(ids.includes(id), id);
  }
  for (const m of RECOMMENDED_MODELS) {
    assert.ok(isHubIdSyntax(m.id), m.id);
    assert.ok(m.name && m.goodFor.length > 20, m.id);
    assert.ok(m.sizeMB === null || m.sizeMB > 0, m.id);
    assert.equal(m.format, 'lmqg', `${m.id}: lmqg QAG models use the lmqg format`);
    assert.ok(m.license, m.id);
    if (!m.licenseChecked) assert.match(formatLicense(m), /unverified/);
  }
  assert.equal(formatSize(890), '~890 MB');
  assert.equal(formatSize(2950), '~3.0 GB');
  assert.equal(formatSize(null), 'size unknown');
  assert.equal(formatLicense({ license: 'unknown', licenseChecked: false }), 'license unknown');
  assert.equal(formatLicense({ license: 'MIT', licenseChecked: true }), 'MIT');
});

test('the README and the walkthrough list the same models with the same sizes', () => {
  for (const doc of ['README.md', 'media/walkthrough/choose-model.md']) {
    const text = read(doc);
    for (const m of RECOMMENDED_MODELS) {
      const row = text.split('\n').find((l) => l.includes(`\`${m.id}\``));
      assert.ok(row, `${doc} lists ${m.id}`);
      assert.ok(row.includes(formatSize(m.sizeMB)), `${doc}: ${m.id} is ${formatSize(m.sizeMB)}`);
      assert.ok(row.includes(formatLicense(m)), `${doc}: ${m.id} license ${formatLicense(m)}`);
    }
  }
});

test('the picker rows: recommended models, then a local folder, then a checkpoint import; the current model marked', () => {
  const rows = pickerItems(RECOMMENDED_MODELS, 'lmqg/t5-small-squad-qag');
  const selectable = rows.filter((r) => !r.separator);
  assert.deepEqual(
    selectable.map((r) => r.label),
    [...RECOMMENDED_MODELS.map(hubLabel), FOLDER_LABEL, CHECKPOINT_LABEL],
  );
  assert.equal(rows[0]!.separator, true, 'a heading first');
  assert.equal(rows.filter((r) => r.separator).length, 2);
  const current = rows.filter((r) => r.current);
  assert.equal(current.length, 1);
  assert.equal(current[0]!.label, '$(cloud-download) lmqg/t5-small-squad-qag');
  assert.match(current[0]!.description!, /~240 MB · CC-BY-4\.0 · current$/, 'a checked license has no "(unverified)"');
  assert.doesNotMatch(current[0]!.detail!, /Read the model card/);
  const unchecked = rows.find((r) => r.label.includes('bart-large-squad-qag'))!;
  assert.match(unchecked.description!, /CC-BY-4\.0 \(unverified\)/);
  assert.match(unchecked.detail!, /Read the model card/);
  assert.ok(selectable.every((r) => r.choice), 'every selectable row has a choice');
  assert.equal(pickerItems(RECOMMENDED_MODELS, '/some/folder').filter((r) => r.current).length, 0);
});

test('choice -> action: hub models are prepared into the storage and saved as their id; folders are picked first', () => {
  const modelsDir = '/storage/models';
  const m = RECOMMENDED_MODELS[0]!;
  assert.deepEqual(actionFor({ kind: 'hub', model: m }, modelsDir), {
    kind: 'prepare',
    title: `QUALS: getting ${m.id}`,
    request: { kind: 'hub', model: m.id, cacheDir: modelsDir, format: 'lmqg' },
    setting: m.id,
  });
  const noFormat = { ...m, id: 'org/x' };
  delete noFormat.format;
  assert.equal((actionFor({ kind: 'hub', model: noFormat }, modelsDir) as { request: { format?: string } }).request.format, undefined, 'no format: the import decides');
  assert.deepEqual(actionFor({ kind: 'folder' }, modelsDir), { kind: 'pick-folder' });
  assert.deepEqual(actionFor({ kind: 'checkpoint' }, modelsDir), { kind: 'pick-checkpoint' });

  const a = checkpointAction('/home/me/my ckpt', modelsDir);
  assert.equal(a.request.kind, 'checkpoint');
  assert.equal(a.request.model, '/home/me/my ckpt');
  assert.equal(a.request.outDir, a.setting, 'the imported folder is what quals.model names');
  assert.match(a.setting, /^\/storage\/models\/imported\/my-ckpt-[0-9a-f]{10}$/);
  assert.equal(importDirFor(modelsDir, '/home/me/my ckpt'), a.setting, 'stable: a re-import replaces the earlier one');
  assert.notEqual(importDirFor(modelsDir, '/other/my ckpt'), a.setting, 'two checkpoints with one name do not collide');
  assert.match(importDirFor(modelsDir, '/x/..'), /\/imported\/checkpoint-[0-9a-f]{10}$/);
});

test('folders are recognised: the ONNX layout, a Hugging Face checkpoint, or neither', () => {
  assert.equal(classifyFolder(['config.json', 'onnx', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx']), 'onnx');
  assert.equal(classifyFolder(['config.json', 'onnx/encoder_model_quantized.onnx']), 'onnx');
  assert.equal(classifyFolder(['config.json', 'model.safetensors', 'tokenizer.json']), 'checkpoint');
  assert.equal(classifyFolder(['config.json', 'pytorch_model.bin']), 'checkpoint');
  assert.equal(classifyFolder(['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors']), 'checkpoint');
  assert.equal(classifyFolder(['model.safetensors']), 'unknown', 'weights without config.json');
  assert.equal(classifyFolder(['notes.md']), 'unknown');
});

test('test-only extra models: parsed, validated, appended after the recommended ones without duplicates', () => {
  const warnings: string[] = [];
  assert.deepEqual(parseExtraModels(undefined), []);
  assert.deepEqual(parseExtraModels('not json', (w) => warnings.push(w)), []);
  assert.deepEqual(parseExtraModels('{"id": "a/b"}', (w) => warnings.push(w)), []);
  assert.equal(warnings.length, 2);
  const extras = parseExtraModels(JSON.stringify([{ id: 'quals-test/bart-a' }, { id: 'no-slash' }, { id: 'a/b', format: 'bogus' }, { id: RECOMMENDED_MODELS[0]!.id }]));
  assert.deepEqual(extras[0], { id: 'quals-test/bart-a', name: 'quals-test/bart-a', sizeMB: null, license: 'unknown', licenseChecked: false, goodFor: 'Test model.' });
  assert.equal(extras.length, 2);
  const list = pickerModels(extras);
  assert.deepEqual(list.map((m) => m.id), [...RECOMMENDED_MODELS.map((m) => m.id), 'quals-test/bart-a']);
});

test('package.json: the picker command, the walkthrough steps and their media', () => {
  const commands: { command: string; title: string }[] = pkg.contributes.commands;
  assert.equal(commands.find((c) => c.command === 'quals.chooseModel')?.title, 'Choose Model...');
  assert.ok(commands.find((c) => c.command === 'quals.openExample'));
  const [walkthrough] = pkg.contributes.walkthroughs;
  assert.equal(walkthrough.id, 'quals.gettingStarted');
  const steps: { id: string; description: string; media: { markdown: string }; completionEvents: string[] }[] = walkthrough.steps;
  assert.deepEqual(steps.map((s) => s.id), ['chooseModel', 'openExample', 'readFinding']);
  assert.match(steps[0]!.description, /\(command:quals\.chooseModel\)/);
  assert.deepEqual(steps[0]!.completionEvents, ['onSettingChanged:quals.model']);
  assert.match(steps[1]!.description, /\(command:quals\.openExample\)/);
  assert.ok(steps[2]!.completionEvents.includes('onView:quals.explorer'));
  for (const s of steps) {
    assert.match(s.media.markdown, /^media\/walkthrough\//);
    assert.ok(existsSync(new URL(s.media.markdown, ROOT)), s.media.markdown);
  }
  // The bundled example pair (examples/ is not in the VSIX; media/ is).
  for (const f of ['boxing.summary.md', 'boxing.md']) assert.equal(read(`media/walkthrough/example/${f}`), read(`examples/${f}`));
  const ignore = read('.vscodeignore');
  assert.ok(!/^media\b/m.test(ignore), 'media/ ships in the VSIX');
});

test('progress messages: downloads in MB with a percentage, import phases by step; repeats throttled', () => {
  assert.deepEqual(downloadReport({ file: 'onnx/model.safetensors', receivedBytes: 3 * 1024 * 1024, totalBytes: 12 * 1024 * 1024 }), {
    message: 'Downloading model.safetensors: 3.0 of 12.0 MB',
    percentage: 25,
  });
  assert.deepEqual(downloadReport({ file: 'config.json', receivedBytes: 512, totalBytes: null }), { message: 'Downloading config.json: 0.0 MB' });
  assert.deepEqual(importReport({ phase: 'encoder', done: 3, total: 12 }), { message: 'Converting the encoder: tensor 3 of 12', percentage: 25 });
  assert.deepEqual(importReport({ phase: 'checksum', done: 200 * 1024 * 1024, total: 400 * 1024 * 1024 }), { message: 'Checking the weights: 200 of 400 MB', percentage: 50 });
  let t = 0;
  const sent: string[] = [];
  const report = throttleReports((r) => sent.push(r.message), 500, () => t);
  report({ message: 'A: 1', percentage: 1 });
  report({ message: 'A: 1b', percentage: 1 }); // same step and percentage, too soon
  report({ message: 'A: 2', percentage: 2 });
  report({ message: 'B: 2', percentage: 2 }); // a new step
  t = 600;
  report({ message: 'B: 2c', percentage: 2 }); // time passed
  assert.deepEqual(sent, ['A: 1', 'A: 2', 'B: 2', 'B: 2c']);
});

function deps(over: Partial<PrepareDeps> = {}): PrepareDeps & { lines: string[] } {
  const lines: string[] = [];
  return {
    resolveModelDir: async () => assert.fail('resolveModelDir not expected'),
    importCheckpoint: async () => assert.fail('importCheckpoint not expected'),
    log: (l) => lines.push(l),
    lines,
    ...over,
  };
}

function tmpModel(withQualsJson?: object): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'quals-prepare-'));
  const dir = join(root, 'org--name', 'main');
  cpSync(BART_ONNX, dir, { recursive: true });
  if (withQualsJson) writeFileSync(join(dir, 'quals.json'), JSON.stringify(withQualsJson));
  return { root, dir };
}

test('prepareModel (hub): resolves into the given cache with the expected format, validates, reports progress', async () => {
  const { root, dir } = tmpModel({ format: 'lmqg', options: { numBeams: 4, numBeamGroups: 4 } });
  try {
    const seen: unknown[] = [];
    const reports: string[] = [];
    const d = deps({
      resolveModelDir: async (config, _signal, extras) => {
        seen.push({ model: config.model, cacheDir: config.cacheDir, format: config.format });
        config.onDownloadProgress?.({ file: 'model.safetensors', receivedBytes: 1, totalBytes: 2 });
        extras?.onImportProgress?.({ phase: 'encoder', done: 2, total: 4 });
        return dir;
      },
    });
    const r = await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: root, format: 'lmqg' }, d, (p) => reports.push(p.message), new AbortController().signal);
    assert.deepEqual(r, { state: 'done', dir, format: 'lmqg' });
    assert.deepEqual(seen, [{ model: 'org/name', cacheDir: root, format: 'lmqg' }]);
    assert.deepEqual(reports, ['Downloading model.safetensors: 0.0 of 0.0 MB', 'Converting the encoder: tensor 2 of 4']);

    // A different format in quals.json than expected: done, with a note.
    const other = await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: root, format: 'qagen' }, d, () => undefined, new AbortController().signal);
    assert.equal(other.state, 'done');
    assert.match(other.message!, /says "lmqg" where "qagen" was expected/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prepareModel (hub): a folder with no format gets the expected one in quals.json; without one it is an error', async () => {
  const { root, dir } = tmpModel();
  try {
    const d = deps({ resolveModelDir: async () => dir });
    const none = await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: root }, d, () => undefined, new AbortController().signal);
    assert.equal(none.state, 'error');
    assert.equal(none.code, 'format');
    const r = await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: root, format: 'qagen' }, d, () => undefined, new AbortController().signal);
    assert.deepEqual(r, { state: 'done', dir, format: 'qagen' });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'quals.json'), 'utf8')), { format: 'qagen' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prepareModel (checkpoint): imports into outDir (overwrite), maps import progress, validates the result', async () => {
  const { root, dir } = tmpModel({ format: 'qagen' });
  try {
    const out = join(root, 'imported', 'ckpt-0123456789');
    const calls: { src: string; out: string; overwrite?: boolean; format?: string }[] = [];
    const reports: string[] = [];
    const d = deps({
      importCheckpoint: async (src, outDir, opts) => {
        calls.push({ src, out: outDir, overwrite: opts.overwrite, format: opts.format });
        opts.onProgress?.({ phase: 'decoder', done: 1, total: 4 });
        cpSync(dir, outDir, { recursive: true });
        return {};
      },
    });
    const r = await prepareModel({ kind: 'checkpoint', model: root, cacheDir: root, outDir: out }, d, (p) => reports.push(p.message), new AbortController().signal);
    assert.deepEqual(r, { state: 'done', dir: out, format: 'qagen' });
    assert.deepEqual(calls, [{ src: root, out, overwrite: true, format: undefined }]);
    assert.deepEqual(reports, ['Converting the decoder: tensor 1 of 4']);

    const missing = await prepareModel({ kind: 'checkpoint', model: join(root, 'nope'), cacheDir: root, outDir: out }, d, () => undefined, new AbortController().signal);
    assert.equal(missing.state, 'error');
    assert.equal(missing.code, 'not-found');
    const relative = await prepareModel({ kind: 'checkpoint', model: root, cacheDir: 'models', outDir: out }, d, () => undefined, new AbortController().signal);
    assert.equal(relative.state, 'error');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prepareModel: a cancelled download or import answers cancelled; model errors keep their code', async () => {
  const controller = new AbortController();
  const d = deps({
    resolveModelDir: async (_c, signal) => {
      controller.abort();
      assert.ok(signal?.aborted);
      throw new CancelledError();
    },
  });
  assert.deepEqual(await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: '/tmp/x' }, d, () => undefined, controller.signal), { state: 'cancelled' });
  const offline = deps({ resolveModelDir: async () => Promise.reject(new ModelError('offline', 'The hub is unreachable.')) });
  assert.deepEqual(await prepareModel({ kind: 'hub', model: 'org/name', cacheDir: '/tmp/x' }, offline, () => undefined, new AbortController().signal), {
    state: 'error',
    message: 'The hub is unreachable.',
    code: 'offline',
  });
  assert.match(offline.lines.join('\n'), /preparing org\/name failed/);
});

test('prepareModel (checkpoint) with the real import: the bart-a checkpoint becomes a loadable qagen model folder', async () => {
  const { importCheckpoint } = await import('../../src/models/import');
  const root = mkdtempSync(join(tmpdir(), 'quals-prepare-real-'));
  try {
    const out = importDirFor(join(root, 'models'), BART_HF);
    const reports: string[] = [];
    const d = deps({ importCheckpoint });
    const r = await prepareModel({ kind: 'checkpoint', model: BART_HF, cacheDir: join(root, 'models'), outDir: out }, d, (p) => reports.push(p.message), new AbortController().signal);
    assert.deepEqual(r, { state: 'done', dir: out, format: 'qagen' });
    assert.ok(existsSync(join(out, 'onnx/encoder_model.onnx')));
    assert.ok(reports.some((m) => m.startsWith('Converting the decoder')));
    // Importing the same folder again replaces the earlier import.
    const again = await prepareModel({ kind: 'checkpoint', model: BART_HF, cacheDir: join(root, 'models'), outDir: out }, d, () => undefined, new AbortController().signal);
    assert.equal(again.state, 'done');
    // A cancelled import leaves the earlier one in place.
    const controller = new AbortController();
    controller.abort();
    const cancelled = await prepareModel({ kind: 'checkpoint', model: BART_HF, cacheDir: join(root, 'models'), outDir: out }, d, () => undefined, controller.signal);
    assert.deepEqual(cancelled, { state: 'cancelled' });
    assert.ok(existsSync(join(out, 'quals.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
