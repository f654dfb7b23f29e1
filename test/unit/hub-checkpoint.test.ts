import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CHECKPOINT_DIR, IMPORT_DIR, MANIFEST_FILE, downloadHubCheckpoint, downloadHubModel, hubCacheFolder, hubImportFolder } from '../../src/models/hub';
import type { ImportProgress } from '../../src/models/import';
import { importCheckpoint } from '../../src/models/import';
import { STEP_GRAPHS_VERSION, readModelFolder } from '../../src/models/model-files';
import { CancelledError, ModelError, type ModelErrorCode } from '../../src/scoring/errors';
import { resolveModelDir } from '../../src/scoring/model/loader';
import { GRAPH_FILES, checkpointCopy, fixtureDir, readTree, splitSafetensors } from '../support/checkpoint-fixtures';
import { withFakeHub } from '../support/hub-suite';

/** Local imports of the fixtures, to compare the hub's conversions with. */
const reference: Record<string, string> = {};

/** The onnx-layout fixture with its two graphs at the repo root (some hub repos look like that). */
function rootLayout(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const [name, bytes] of readTree(fixtureDir('bart-a', 'onnx-layout'))) files[name.replace(/^onnx\//, '')] = bytes;
  return files;
}

const env = withFakeHub('quals-hub-ckpt-', async (tmp) => {
  const sharded = checkpointCopy(fixtureDir('bart-a'), path.join(tmp, 'sharded-repo'), { exclude: ['model.safetensors', 'pytorch_model.bin'] });
  splitSafetensors(path.join(fixtureDir('bart-a'), 'model.safetensors'), sharded, 2);
  reference['bart-a'] = (await importCheckpoint(fixtureDir('bart-a'), path.join(tmp, 'ref-bart-a'))).outDir;
  reference['t5-a'] = (await importCheckpoint(fixtureDir('t5-a'), path.join(tmp, 'ref-t5-a'))).outDir;
  return {
    'lmqg-test/bart-a-safetensors': { dir: fixtureDir('bart-a'), exclude: ['pytorch_model.bin'], files: { 'README.md': '# bart-a\n' } },
    'lmqg-test/t5-a-bin': { dir: fixtureDir('t5-a'), exclude: ['model.safetensors'] },
    'lmqg-test/t5-a-both': fixtureDir('t5-a'),
    'lmqg-test/t5-a-no-generation-config': { dir: fixtureDir('t5-a'), exclude: ['model.safetensors', 'generation_config.json'] },
    'lmqg-test/bart-a-sharded': sharded,
    'lmqg-test/bart-a-onnx': fixtureDir('bart-a', 'onnx-layout'),
    'lmqg-test/bart-a-onnx-root': { files: rootLayout() },
    'lmqg-test/t5-a-old-mirror': { dir: fixtureDir('t5-a'), exclude: ['model.safetensors'], api: false },
    'lmqg-test/bart-a-sharded-old-mirror': { dir: sharded, api: false },
    'lmqg-test/tf-only': { files: { 'config.json': fs.readFileSync(path.join(fixtureDir('t5-a'), 'config.json')), 'tf_model.h5': Buffer.alloc(64), 'README.md': 'hi' } },
    'lmqg-test/t5-a-no-tokenizer': { dir: fixtureDir('t5-a'), exclude: ['tokenizer.json'] },
    'lmqg-test/seq-classifier': { dir: fixtureDir('bart-a'), exclude: ['pytorch_model.bin'], files: { 'config.json': { ...JSON.parse(fs.readFileSync(path.join(fixtureDir('bart-a'), 'config.json'), 'utf8')), architectures: ['BartForSequenceClassification'] } } },
  };
});

function resolve(id: string, cacheDir: string, extra: Partial<Parameters<typeof downloadHubModel>[1]> = {}): Promise<string> {
  return downloadHubModel(id, { cacheDir, hubUrl: env.hub.url, retryDelayMs: 0, timeoutMs: 5000, ...extra });
}

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

function assertSameGraphs(a: string, b: string): void {
  for (const f of GRAPH_FILES) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs`);
}

describe('hub checkpoint repos resolve to an imported model', () => {
  test('safetensors only: only the needed files are fetched, the conversion equals a local import, a second resolve is offline', async () => {
    const id = 'lmqg-test/bart-a-safetensors';
    const cacheDir = env.freshCache();
    const imports: ImportProgress[] = [];
    const logs: string[] = [];
    env.hub.log.length = 0;
    const dir = await resolveModelDir({ model: id, cacheDir, hubUrl: env.hub.url, log: (l) => logs.push(l) }, undefined, { onImportProgress: (p) => imports.push(p) });
    assert.equal(dir, hubImportFolder(cacheDir, id));
    assert.equal(dir, path.join(cacheDir, 'lmqg-test--bart-a-safetensors', 'main', IMPORT_DIR));
    const folder = readModelFolder(dir, 'fp32');
    assert.equal(folder.qualsJson?.format, 'qagen');
    assertSameGraphs(dir, reference['bart-a']!);

    // The listing, then the JSON files and the chosen weights: no slow-tokenizer files, no .bin.
    assert.equal(env.hub.hubRequests()[0]!.path, `/api/models/${id}/revision/main`);
    assert.deepEqual(env.hub.fetched(id).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.ok(imports.some((p) => p.phase === 'decoder'), 'import progress was reported');
    assert.ok(logs.some((l) => /Converting lmqg-test\/bart-a-safetensors/.test(l)), logs.join('\n'));

    const quals = JSON.parse(fs.readFileSync(path.join(dir, 'quals.json'), 'utf8'));
    assert.equal(quals.importedFrom.source, id);
    assert.equal(quals.importedFrom.revision, 'main');
    assert.equal(quals.importedFrom.commit, env.hub.commit(id));
    assert.deepEqual(quals.importedFrom.weights, ['model.safetensors']);

    const manifest = JSON.parse(fs.readFileSync(path.join(hubCacheFolder(cacheDir, id), MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.layout, 'checkpoint');
    assert.deepEqual(manifest.checkpoint.weights, [`${CHECKPOINT_DIR}/model.safetensors`]);
    assert.ok(!fs.readdirSync(path.dirname(hubCacheFolder(cacheDir, id))).some((n) => n.includes('incomplete') || n.endsWith('.lock')), 'no staging or lock left');

    const before = env.hub.log.length;
    assert.equal(await resolveModelDir({ model: id, cacheDir, hubUrl: env.hub.url }), dir);
    assert.equal(env.hub.log.length, before, 'a complete cache makes no request');
  });

  for (const [id, model, weights] of [
    ['lmqg-test/t5-a-bin', 't5-a', ['pytorch_model.bin']],
    ['lmqg-test/t5-a-both', 't5-a', ['model.safetensors']],
    ['lmqg-test/bart-a-sharded', 'bart-a', ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']],
    ['lmqg-test/t5-a-old-mirror', 't5-a', ['pytorch_model.bin']],
    ['lmqg-test/bart-a-sharded-old-mirror', 'bart-a', ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']],
  ] as const) {
    test(`${id}: resolves, with the same graphs as a local import, then offline`, async () => {
      const cacheDir = env.freshCache();
      const dir = await resolve(id, cacheDir);
      assert.equal(dir, hubImportFolder(cacheDir, id));
      assert.equal(readModelFolder(dir).qualsJson?.format, model === 't5-a' ? 'lmqg' : 'qagen');
      assertSameGraphs(dir, reference[model]!);
      const quals = JSON.parse(fs.readFileSync(path.join(dir, 'quals.json'), 'utf8'));
      assert.deepEqual(quals.importedFrom.weights, weights);
      const fetched = env.hub.fetched(id);
      // Downloaded once (an old mirror without a listing also probes with a one-byte range first).
      const downloads = (w: string) => env.hub.log.filter((l) => l.server === 'hub' && l.path === `/${id}/resolve/main/${w}` && l.range !== 'bytes=0-0').length;
      for (const w of weights) assert.equal(downloads(w), 1, `${w} downloaded once`);
      for (const other of ['model.safetensors', 'pytorch_model.bin', 'pytorch_model.bin.index.json'].filter((w) => !(weights as readonly string[]).includes(w))) {
        assert.equal(downloads(other), 0, `${other} is not downloaded`);
      }
      assert.ok(!fetched.some((f) => ['vocab.json', 'merges.txt', 'spiece.model'].includes(f)), 'slow-tokenizer files stay on the hub');
      if (id.includes('old-mirror')) assert.equal(quals.importedFrom.commit, undefined, 'no listing, no commit');
      const before = env.hub.log.length;
      assert.equal(await resolve(id, cacheDir), dir);
      assert.equal(env.hub.log.length, before, 'no request the second time');
    });
  }

  test('an old mirror without the listing API: probes the ONNX files, then the weights, without downloading other weights', async () => {
    const id = 'lmqg-test/t5-a-old-mirror';
    const cacheDir = env.freshCache();
    env.hub.log.length = 0;
    await resolve(id, cacheDir);
    const fetched = env.hub.fetched(id);
    assert.ok(fetched.includes('onnx/encoder_model.onnx'), 'looked for the ONNX export first');
    const probes = env.hub.log.filter((l) => l.server === 'hub' && l.path === `/${id}/resolve/main/model.safetensors`);
    assert.ok(probes.length > 0 && probes.every((l) => l.range === 'bytes=0-0' && l.status === 404), 'the absent safetensors were only probed');
    const bins = env.hub.log.filter((l) => l.server === 'hub' && l.path.endsWith('/pytorch_model.bin'));
    assert.equal(bins[0]!.range, 'bytes=0-0', 'probed with a one-byte range first');
  });

  test('a repo without generation_config.json resolves and loads (generation keys from config.json)', async () => {
    const id = 'lmqg-test/t5-a-no-generation-config';
    const dir = await resolve(id, env.freshCache());
    assert.ok(!fs.existsSync(path.join(dir, 'generation_config.json')));
    const folder = readModelFolder(dir);
    assert.equal(folder.decoderStartTokenId, 0);
    assert.ok(!env.hub.fetched(id).includes('generation_config.json'), 'the listing said it is absent: not even asked for');
  });

  test('ONNX repos (onnx/ or root layout) are downloaded as they are, not converted', async () => {
    const cacheDir = env.freshCache();
    const dir = await resolve('lmqg-test/bart-a-onnx', cacheDir);
    assert.equal(dir, hubCacheFolder(cacheDir, 'lmqg-test/bart-a-onnx'));
    readModelFolder(dir);
    for (const [name, bytes] of readTree(fixtureDir('bart-a', 'onnx-layout'))) assert.ok(fs.readFileSync(path.join(dir, name)).equals(bytes), name);
    assert.ok(!fs.existsSync(path.join(dir, IMPORT_DIR)));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.layout, 'onnx');
    assert.ok(!env.hub.fetched('lmqg-test/bart-a-onnx').some((f) => f.endsWith('_data') || f === 'quals.json'), 'absent optional files are not asked for');

    const root = await resolve('lmqg-test/bart-a-onnx-root', cacheDir);
    assert.ok(fs.readFileSync(path.join(root, 'onnx/encoder_model.onnx')).equals(fs.readFileSync(path.join(fixtureDir('bart-a', 'onnx-layout'), 'onnx/encoder_model.onnx'))));
    readModelFolder(root);
    const before = env.hub.log.length;
    assert.equal(await resolve('lmqg-test/bart-a-onnx-root', cacheDir), root);
    assert.equal(await resolveModelDir({ model: 'lmqg-test/bart-a-onnx', cacheDir, hubUrl: env.hub.url }), dir);
    assert.equal(env.hub.log.length, before);
  });

  test('downloadHubCheckpoint fetches only the checkpoint, for an import elsewhere', async () => {
    const cacheDir = env.freshCache();
    const ckpt = await downloadHubCheckpoint('lmqg-test/t5-a-both', { cacheDir, hubUrl: env.hub.url, prefer: 'bin' });
    assert.equal(ckpt.dir, path.join(hubCacheFolder(cacheDir, 'lmqg-test/t5-a-both'), CHECKPOINT_DIR));
    assert.deepEqual(ckpt.weights, ['pytorch_model.bin']);
    assert.equal(ckpt.commit, env.hub.commit('lmqg-test/t5-a-both'));
    assert.ok(!fs.existsSync(hubImportFolder(cacheDir, 'lmqg-test/t5-a-both')), 'not converted in the cache');
    const before = env.hub.log.length;
    assert.deepEqual(await downloadHubCheckpoint('lmqg-test/t5-a-both', { cacheDir, hubUrl: env.hub.url }), ckpt);
    assert.equal(env.hub.log.length, before);
    // The loader later converts what is there, without asking the hub again, then or after.
    const dir = await resolve('lmqg-test/t5-a-both', cacheDir);
    assert.equal(dir, hubImportFolder(cacheDir, 'lmqg-test/t5-a-both'));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'quals.json'), 'utf8')).importedFrom.weights, ['pytorch_model.bin']);
    assert.equal(await resolve('lmqg-test/t5-a-both', cacheDir), dir);
    assert.equal(env.hub.log.length, before);
    await expectModelError(downloadHubCheckpoint('lmqg-test/bart-a-onnx', { cacheDir, hubUrl: env.hub.url }), 'not-found', /no Hugging Face checkpoint/, /use it directly \(--model lmqg-test\/bart-a-onnx\)/);
  });

  test('a dropped weight download resumes; a cancelled conversion leaves no import and converts later without the network', async () => {
    const id = 'lmqg-test/bart-a-safetensors';
    const cacheDir = env.freshCache();
    env.hub.dropOnce.set('model.safetensors', 1_000_000);
    const ac = new AbortController();
    await assert.rejects(resolve(id, cacheDir, { signal: ac.signal, onImportProgress: (p) => p.phase === 'encoder' && ac.abort() }), CancelledError);
    const cdn = env.hub.log.filter((l) => l.server === 'cdn');
    assert.ok(cdn.some((l) => /^bytes=[1-9]/.test(l.range ?? '')), 'resumed with a range request');
    const importDir = hubImportFolder(cacheDir, id);
    assert.ok(!fs.existsSync(importDir), 'no half-written import');
    assert.ok(!fs.readdirSync(path.dirname(importDir)).some((n) => n.startsWith(`.${IMPORT_DIR}.`)), 'no import staging left');
    const before = env.hub.log.length;
    assert.equal(await resolve(id, cacheDir), importDir);
    assert.equal(env.hub.log.length, before, 'the checkpoint was complete: converted without a request');
    readModelFolder(importDir);
  });

  test('reimport converts again; a variant other than fp32 or int8 is refused for a checkpoint', async () => {
    const id = 'lmqg-test/t5-a-bin';
    const cacheDir = env.freshCache();
    const dir = await resolve(id, cacheDir);
    const stamp = path.join(dir, 'stamp');
    fs.writeFileSync(stamp, '');
    const before = env.hub.log.length;
    assert.equal(await resolve(id, cacheDir, { reimport: true, format: 'qagen' }), dir);
    assert.equal(env.hub.log.length, before);
    assert.ok(!fs.existsSync(stamp), 'replaced');
    assert.equal(readModelFolder(dir).qualsJson?.format, 'qagen');
    await expectModelError(resolve(id, cacheDir, { variant: 'quantized' }), 'format', /fp32 or int8 ONNX only/);
    await expectModelError(resolve('lmqg-test/t5-a-both', env.freshCache(), { variant: 'fp16' }), 'format', /fp32 or int8 ONNX only/);
  });

  test('a conversion whose quals-step graphs an older QUALS wrote is converted again, without a request', async () => {
    const id = 'lmqg-test/bart-a-safetensors';
    const cacheDir = env.freshCache();
    const dir = await resolve(id, cacheDir);
    const qualsPath = path.join(dir, 'quals.json');
    const quals = JSON.parse(fs.readFileSync(qualsPath, 'utf8')) as { graphs: Record<string, unknown> };
    assert.equal(quals.graphs.stepGraphs, STEP_GRAPHS_VERSION);
    // What a conversion by the previous version looks like: no stepGraphs record.
    delete quals.graphs.stepGraphs;
    fs.writeFileSync(qualsPath, JSON.stringify(quals));
    assert.equal(readModelFolder(dir).stepPaths, undefined, 'old step graphs are not run');
    const before = env.hub.log.length;
    const logs: string[] = [];
    assert.equal(await resolve(id, cacheDir, { log: (l) => logs.push(l) }), dir);
    assert.equal(env.hub.log.length, before, 'no request: converted from the cached checkpoint');
    assert.ok(logs.some((l) => /Converting lmqg-test\/bart-a-safetensors/.test(l)), logs.join('\n'));
    assert.ok(readModelFolder(dir).stepPaths, 'the new conversion runs the quals-step graphs');
  });
});

describe('hub repos that cannot be imported fail early, saying why', () => {
  test('neither ONNX nor a checkpoint: not-found, naming what the repo has', async () => {
    await expectModelError(resolve('lmqg-test/tf-only', env.freshCache()), 'not-found', /holds neither an ONNX export/, /README\.md, config\.json, tf_model\.h5/);
  });

  test('no tokenizer.json, or an unsupported architecture: refused before any weights are downloaded', async () => {
    await expectModelError(resolve('lmqg-test/t5-a-no-tokenizer', env.freshCache()), 'missing-file', /no tokenizer\.json \(only spiece\.model\)/, /quals model import/);
    await expectModelError(resolve('lmqg-test/seq-classifier', env.freshCache()), 'format', /BartForSequenceClassification/, /QUALS can import/);
    for (const id of ['lmqg-test/t5-a-no-tokenizer', 'lmqg-test/seq-classifier']) {
      assert.ok(!env.hub.fetched(id).some((f) => /\.(bin|safetensors)$/.test(f)), `${id}: no weights fetched`);
    }
  });

  test('an unknown repo is still not-found', async () => {
    await expectModelError(resolve('lmqg-test/missing', env.freshCache()), 'not-found', /was not found/);
  });
});

describe('quals model import HUB_ID (CLI)', () => {
  function quals(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => done({ code, out, err }));
    });
  }

  test('converts into the cache by default, or into --out', async () => {
    const cacheDir = env.freshCache();
    const childEnv = { HF_ENDPOINT: env.hub.url };
    const r = await quals(['model', 'import', 'lmqg-test/t5-a-bin', '--cache-dir', cacheDir], childEnv);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim().split('\n').at(-1), hubImportFolder(cacheDir, 'lmqg-test/t5-a-bin'));
    assert.match(r.out, /Use it with --model lmqg-test\/t5-a-bin/);
    const target = path.join(env.tmp, 'cli-hub-out');
    const o = await quals(['model', 'import', 'lmqg-test/t5-a-bin', '--cache-dir', cacheDir, '--out', target], childEnv);
    assert.equal(o.code, 0, o.err);
    assert.equal(o.out.trim().split('\n').at(-1), target);
    assertSameGraphs(target, reference['t5-a']!);
    const onnx = await quals(['model', 'import', 'lmqg-test/bart-a-onnx', '--cache-dir', cacheDir], childEnv);
    assert.equal(onnx.code, 0, onnx.err);
    assert.match(onnx.out, /already an ONNX export/);
  });
});
