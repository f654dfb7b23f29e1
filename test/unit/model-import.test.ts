import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CheckpointError } from '../../src/models/checkpoint/checkpoint';
import { type ImportProgress, checkpointFolderHint, importCheckpoint } from '../../src/models/import';
import { readModelFolder } from '../../src/models/model-files';
import { TargetFolderError } from '../../src/models/staged-folder';
import { CancelledError, ModelError, type ModelErrorCode } from '../../src/scoring/errors';
import { resolveModelDir } from '../../src/scoring/model/loader';
import { GRAPH_FILES, checkpointCopy, fixtureDir, maliciousTorchBin, readTree, splitSafetensors } from '../support/checkpoint-fixtures';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-import-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const out = (name: string) => path.join(tmp, name);

async function expectModelError(p: Promise<unknown>, code: ModelErrorCode, ...patterns: RegExp[]): Promise<ModelError> {
  const err = await p.then(
    () => assert.fail('expected a ModelError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ModelError, `expected a ModelError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.doesNotMatch(err.message, /\n/);
  for (const pattern of patterns) assert.match(err.message, pattern);
  return err;
}

/** Nothing but `keep` in the output's parent folder: no staging folder, no half-written model. */
function assertNothingLeft(parent: string, keep: string[] = []): void {
  const left = fs.readdirSync(parent).filter((n) => !keep.includes(n));
  assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
}

function assertSameGraphs(a: string, b: string): void {
  for (const f of GRAPH_FILES) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs between ${a} and ${b}`);
}

describe('importCheckpoint on the real HF fixtures', () => {
  for (const model of ['bart-a', 't5-a'] as const) {
    test(`${model}: safetensors and pytorch_model.bin give byte-identical graphs, and the folder loads`, async () => {
      const events: ImportProgress[] = [];
      const st = await importCheckpoint(fixtureDir(model), out(`${model}-st`), { prefer: 'safetensors', onProgress: (p) => events.push(p) });
      const bin = await importCheckpoint(fixtureDir(model), out(`${model}-bin`), { prefer: 'bin' });
      assertSameGraphs(st.outDir, bin.outDir);
      assert.deepEqual(st.weights.map((w) => w.file), ['model.safetensors']);
      assert.deepEqual(bin.weights.map((w) => w.file), ['pytorch_model.bin']);

      for (const report of [st, bin]) {
        const folder = readModelFolder(report.outDir, 'fp32');
        assert.equal(folder.qualsJson?.format, model === 'bart-a' ? 'qagen' : 'lmqg');
        assert.deepEqual(folder.qualsJson?.graphs, { builder: 'quals', multiTokenCache: true, design: 'quals-step', stepGraphs: 2 });
        assert.ok(folder.stepPaths);
        const raw = JSON.parse(fs.readFileSync(path.join(report.outDir, 'quals.json'), 'utf8'));
        assert.deepEqual(Object.keys(raw), ['format', 'graphs', 'importedFrom']);
        assert.equal(raw.importedFrom.source, fixtureDir(model));
        assert.equal(raw.importedFrom.architecture, model === 'bart-a' ? 'BartForConditionalGeneration' : 'T5ForConditionalGeneration');
        assert.deepEqual(raw.importedFrom.sha256, Object.fromEntries(report.weights.map((w) => [w.file, w.sha256])));
        assert.match(report.weights[0]!.sha256, /^[0-9a-f]{64}$/);
        // The JSON files are the checkpoint's own, byte for byte.
        for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
          assert.ok(fs.readFileSync(path.join(report.outDir, f)).equals(fs.readFileSync(path.join(fixtureDir(model), f))), f);
        }
        assert.ok(!report.files.some((f) => /\.(bin|safetensors)$/.test(f)), 'no weights copied');
        assert.deepEqual(report.files, [...report.files].sort());
      }
      if (model === 't5-a') assert.ok(st.files.includes('added_tokens.json'));

      // Progress: the checksum in bytes, then every tensor, per graph, ending at the total.
      assert.equal(events[0]!.phase, 'checksum');
      assert.ok(events.some((e) => e.phase === 'encoder') && events.some((e) => e.phase === 'decoder'));
      const last = events.at(-1)!;
      assert.deepEqual(last, { phase: 'decoder', done: st.tensors, total: st.tensors });
      const tensorEvents = events.filter((e) => e.phase !== 'checksum');
      assert.ok(tensorEvents.every((e, i) => i === 0 || e.done >= tensorEvents[i - 1]!.done), 'monotonic');
      assertNothingLeft(tmp, fs.readdirSync(tmp).filter((n) => !n.startsWith('.')));
    });
  }

  test('the same input gives the same bytes', async () => {
    const a = await importCheckpoint(fixtureDir('t5-a'), out('det-a'));
    const b = await importCheckpoint(fixtureDir('t5-a'), out('det-b'));
    const ta = readTree(a.outDir);
    const tb = readTree(b.outDir);
    assert.deepEqual([...ta.keys()], [...tb.keys()]);
    for (const [name, bytes] of ta) assert.ok(bytes.equals(tb.get(name)!), `${name} differs`);
  });

  test('a sharded safetensors checkpoint gives the same graphs as the single file', async () => {
    const src = checkpointCopy(fixtureDir('bart-a'), out('sharded-src'), { exclude: ['model.safetensors', 'pytorch_model.bin'] });
    const shards = splitSafetensors(path.join(fixtureDir('bart-a'), 'model.safetensors'), src, 2);
    const sharded = await importCheckpoint(src, out('sharded'));
    assert.deepEqual(sharded.weights.map((w) => w.file), ['model.safetensors.index.json', ...shards]);
    const single = fs.existsSync(out('bart-a-st')) ? out('bart-a-st') : (await importCheckpoint(fixtureDir('bart-a'), out('bart-a-st2'))).outDir;
    assertSameGraphs(sharded.outDir, single);
  });

  test('lmqg evidence (trainer_config.json) beats the BART separator token; the file is copied', async () => {
    const trainer = { model: 'facebook/bart-base', dataset_path: 'lmqg/qag_squad', input_types: ['paragraph'], output_types: ['questions_answers'], prefix_types: null };
    const src = checkpointCopy(fixtureDir('bart-a'), out('lmqg-src'), { exclude: ['pytorch_model.bin'], files: { 'trainer_config.json': trainer } });
    const r = await importCheckpoint(src, out('lmqg'));
    assert.equal(r.format, 'lmqg');
    assert.match(r.formatReason, /trainer_config\.json/);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(r.outDir, 'trainer_config.json'), 'utf8')), trainer);
    const given = await importCheckpoint(src, out('lmqg-given-qagen'), { format: 'qagen' });
    assert.equal(given.format, 'qagen');
    assert.equal(given.formatReason, 'given');
  });
});

describe('importCheckpoint --variant int8: progress', () => {
  for (const model of ['bart-a', 't5-a'] as const) {
    test(`${model}: the fp32 graphs fill the first half, the int8 graphs (marked int8) the second, tensor by tensor`, async () => {
      const events: ImportProgress[] = [];
      const r = await importCheckpoint(fixtureDir(model), out(`${model}-int8-progress`), { variant: 'int8', onProgress: (p) => events.push(p) });
      const n = r.tensors;
      const graphs = events.filter((e) => e.phase !== 'checksum');
      assert.ok(graphs.every((e) => e.total === 2 * n), 'the total counts both passes');
      assert.ok(graphs.every((e, i) => i === 0 || e.done >= graphs[i - 1]!.done), 'monotonic');
      const first = graphs.findIndex((e) => e.variant === 'int8');
      assert.ok(first > 0 && graphs.slice(first).every((e) => e.variant === 'int8'), 'one fp32 pass, then one int8 pass');
      assert.ok(graphs.slice(0, first).every((e) => e.done <= n));
      assert.equal(graphs[first - 1]!.done, n, 'the fp32 pass ends at half');
      const int8 = graphs.slice(first);
      assert.ok(int8[0]!.done <= n + 1, `the int8 pass starts at ${int8[0]!.done}, not at the fp32 end`);
      // Every tensor read for the int8 graphs moves the count, so it moves while they are written
      // (the few fp32 tensors they share with the fp32 graphs by reference are not read again).
      const moves = new Set(int8.map((e) => e.done).filter((d) => d > n && d < 2 * n)).size;
      assert.ok(moves >= 0.9 * n - 1, `${moves} steps in the int8 pass for ${n} tensors`);
      assert.ok(int8.some((e) => e.phase === 'encoder') && int8.some((e) => e.phase === 'decoder'));
      assert.deepEqual(events.at(-1), { phase: 'decoder', done: 2 * n, total: 2 * n, variant: 'int8' });
    });
  }
});

describe('importCheckpoint refuses, with nothing written', () => {
  test('an existing non-empty output folder, unless overwrite; never a folder inside the source', async () => {
    const target = out('existing');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'mine');
    await assert.rejects(importCheckpoint(fixtureDir('t5-a'), target), (e: unknown) => e instanceof TargetFolderError && /already exists.*--overwrite/.test(e.message));
    assert.deepEqual(fs.readdirSync(target), ['keep.txt']);

    const r = await importCheckpoint(fixtureDir('t5-a'), target, { overwrite: true });
    assert.ok(!fs.existsSync(path.join(target, 'keep.txt')), 'replaced');
    assert.equal(readModelFolder(r.outDir).qualsJson?.format, 'lmqg');

    const empty = out('empty');
    fs.mkdirSync(empty);
    await importCheckpoint(fixtureDir('t5-a'), empty); // an empty folder is fine

    const src = checkpointCopy(fixtureDir('t5-a'), out('inside-src'), { exclude: ['pytorch_model.bin'] });
    const before = fs.readdirSync(src).sort();
    await assert.rejects(importCheckpoint(src, path.join(src, 'onnx-out')), (e: unknown) => e instanceof TargetFolderError && /inside the checkpoint folder/.test(e.message));
    await assert.rejects(importCheckpoint(src, src, { overwrite: true }), TargetFolderError);
    await assert.rejects(importCheckpoint(src, path.dirname(src), { overwrite: true }), (e: unknown) => e instanceof TargetFolderError && /inside the output folder/.test(e.message));
    assert.deepEqual(fs.readdirSync(src).sort(), before, 'the source is untouched');
  });

  test('an unsupported architecture: names it and lists what is supported', async () => {
    const config = { ...JSON.parse(fs.readFileSync(path.join(fixtureDir('bart-a'), 'config.json'), 'utf8')), architectures: ['BartForSequenceClassification'] };
    const src = checkpointCopy(fixtureDir('bart-a'), out('seqcls-src'), { exclude: ['pytorch_model.bin'], files: { 'config.json': config } });
    await expectModelError(importCheckpoint(src, out('seqcls')), 'format', /architectures \["BartForSequenceClassification"\]/, /BartForConditionalGeneration/, /T5ForConditionalGeneration/, /MT5ForConditionalGeneration/);
    const gpt2 = checkpointCopy(fixtureDir('bart-a'), out('gpt2-src'), { exclude: ['pytorch_model.bin'], files: { 'config.json': { model_type: 'gpt2', vocab_size: 50257 } } });
    await expectModelError(importCheckpoint(gpt2, out('gpt2')), 'format', /model_type "gpt2"/, /QUALS can import/);
    assert.ok(!fs.existsSync(out('seqcls')) && !fs.existsSync(out('gpt2')));
  });

  test('no tokenizer.json: says that it is needed, naming the slow tokenizer files that are there', async () => {
    const src = checkpointCopy(fixtureDir('t5-a'), out('notok-src'), { exclude: ['tokenizer.json', 'pytorch_model.bin'] });
    await expectModelError(importCheckpoint(src, out('notok')), 'missing-file', /no tokenizer\.json/, /only spiece\.model/, /save_pretrained/);
    const bpe = checkpointCopy(fixtureDir('bart-a'), out('notok-bpe-src'), { exclude: ['tokenizer.json', 'pytorch_model.bin'] });
    await expectModelError(importCheckpoint(bpe, out('notok-bpe')), 'missing-file', /only vocab\.json and merges\.txt/);
  });

  test('a format nothing tells: asks for --format', async () => {
    // A BART config with a tokenizer that lacks the QAGen separator, and no lmqg evidence.
    const src = checkpointCopy(fixtureDir('bart-a'), out('noformat-src'), { exclude: ['pytorch_model.bin'], files: { 'tokenizer.json': fs.readFileSync(path.join(fixtureDir('t5-a'), 'tokenizer.json')) } });
    await expectModelError(importCheckpoint(src, out('noformat')), 'format', /--format qagen/, /--format lmqg/);
    assert.ok(!fs.existsSync(out('noformat')));
  });

  test('a pytorch_model.bin whose pickle calls os.system: refused with a CheckpointError, nothing run or written', async () => {
    const marker = out('pwned');
    const src = checkpointCopy(fixtureDir('bart-a'), out('evil-src'), {
      exclude: ['model.safetensors', 'pytorch_model.bin'],
      files: { 'pytorch_model.bin': maliciousTorchBin(`touch ${marker}`) },
    });
    const err = await expectModelError(importCheckpoint(src, out('evil')), 'invalid-file', /os\.system/, /malicious/, /nothing in it was executed/);
    assert.ok(err.cause instanceof CheckpointError, 'the unpickler refused it');
    assert.ok(!fs.existsSync(marker), 'the command did not run');
    assert.ok(!fs.existsSync(out('evil')));
    assert.ok(!fs.readdirSync(tmp).some((n) => n.startsWith('.evil.')), 'no staging folder left');
  });

  test('cancellation, during the checksum or a graph write, leaves nothing', async () => {
    for (const phase of ['checksum', 'encoder', 'decoder'] as const) {
      const ac = new AbortController();
      const target = out(`cancel-${phase}`);
      await assert.rejects(
        importCheckpoint(fixtureDir('bart-a'), target, { signal: ac.signal, onProgress: (p) => p.phase === phase && p.done > 0 && ac.abort() }),
        CancelledError,
      );
      assert.ok(!fs.existsSync(target), `${phase}: no output`);
      assert.ok(!fs.readdirSync(tmp).some((n) => n.startsWith(`.cancel-${phase}.`)), `${phase}: no staging folder left`);
    }
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(importCheckpoint(fixtureDir('bart-a'), out('cancel-before'), { signal: ac.signal }), CancelledError);
  });
});

describe('a checkpoint folder as the model setting', () => {
  test('is refused with the command that converts it', async () => {
    assert.equal(checkpointFolderHint(fixtureDir('bart-a', 'onnx-layout')), null);
    await expectModelError(resolveModelDir({ model: fixtureDir('t5-a') }), 'missing-file', /Hugging Face checkpoint \(model\.safetensors\)/, /quals model import/);
  });
});

describe('quals model import (CLI)', () => {
  const quals = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });

  test('imports a folder, prints the folder last; usage errors and an existing output have their exit codes', () => {
    const target = out('cli');
    const r = quals('model', 'import', fixtureDir('t5-a'), '--out', target, '--prefer', 'bin');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), target);
    assert.match(r.stdout, /Imported .*T5ForConditionalGeneration, format lmqg/);
    assert.match(r.stdout, /pytorch_model\.bin \(sha256 [0-9a-f]{12}/);
    assert.equal(readModelFolder(target).qualsJson?.format, 'lmqg');

    const again = quals('model', 'import', fixtureDir('t5-a'), '--out', target);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists.*--overwrite/);
    assert.equal(quals('model', 'import', fixtureDir('t5-a'), '--out', target, '--overwrite').status, 0);

    assert.equal(quals('model', 'import', fixtureDir('t5-a')).status, 1, '--out is needed for a folder');
    assert.equal(quals('model', 'import', fixtureDir('t5-a'), '--out', out('x'), '--format', 'nope').status, 1);
    assert.equal(quals('model', 'import', './no/such/folder', '--out', out('x')).status, 1);
    assert.equal(quals('model', 'frobnicate').status, 1);
    const help = quals('model', 'import', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--prefer W/);
    assert.match(quals('--help').stdout, /model +import a Hugging Face checkpoint/);
  });
});

describe('ModelProgress (the CLI progress line)', () => {
  test('redraws one line on a terminal, prints one line per step elsewhere', async () => {
    const { ModelProgress } = await import('../../src/cli/model-progress');
    let t = 0;
    const tty: string[] = [];
    const p = new ModelProgress({ write: (s: string) => tty.push(s), isTTY: true, columns: 80 }, () => (t += 200));
    p.download({ file: 'config.json', receivedBytes: 0, totalBytes: 2048 });
    p.download({ file: 'model.safetensors', receivedBytes: 3 * 1024 * 1024, totalBytes: 6 * 1024 * 1024 });
    p.convert({ phase: 'encoder', done: 5, total: 10 });
    p.line('quals: a log line');
    p.finish();
    assert.ok(tty.slice(0, 3).every((s) => s.startsWith('\r') && s.endsWith('\x1b[K')), tty.join('|'));
    assert.match(tty[0]!, /Downloading config\.json \[-+\] 0\/2 kB/);
    assert.match(tty[1]!, /Downloading model\.safetensors \[#{15}-{15}\] 3\.0\/6\.0 MB/);
    assert.match(tty[2]!, /Writing onnx\/encoder_model\.onnx .* 5\/10 tensors/);
    assert.deepEqual(tty.slice(3), ['\n', 'quals: a log line\n']);

    const plain: string[] = [];
    const q = new ModelProgress({ write: (s: string) => plain.push(s), isTTY: false });
    for (let i = 0; i < 5; i++) q.convert({ phase: 'decoder', done: i, total: 5 });
    q.download({ file: 'a', receivedBytes: 1, totalBytes: 2 });
    assert.deepEqual(plain, ['Writing onnx/decoder_model_merged.onnx\n', 'Downloading a\n']);
  });

  test('the int8 pass is labelled as such, on the CLI line and in the VS Code notification', async () => {
    const { ModelProgress } = await import('../../src/cli/model-progress');
    const { importReport } = await import('../../src/server/prepare-model');
    const plain: string[] = [];
    const q = new ModelProgress({ write: (s: string) => plain.push(s), isTTY: false });
    q.convert({ phase: 'decoder', done: 9, total: 20 });
    q.convert({ phase: 'encoder', done: 11, total: 20, variant: 'int8' });
    q.convert({ phase: 'decoder', done: 15, total: 20, variant: 'int8' });
    assert.deepEqual(plain, ['Writing onnx/decoder_model_merged.onnx\n', 'Writing onnx/encoder_model_int8.onnx\n', 'Writing the int8 decoder graphs (onnx/decoder_step_quals_int8.onnx, onnx/cross_kv_quals_int8.onnx)\n']);
    assert.deepEqual(importReport({ phase: 'encoder', done: 15, total: 20, variant: 'int8' }), { message: 'Converting the encoder (int8): tensor 15 of 20', percentage: 75 });
  });
});
