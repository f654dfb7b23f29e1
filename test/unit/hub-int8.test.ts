// The int8 variant of hub checkpoint repos (src/models/hub.ts): converted into the model cache with
// the fp32 graphs at the first request for int8, or added to a cached fp32 conversion from the
// downloaded checkpoint without a request to the hub; an interrupted conversion leaves the cache
// serving what it served before; the conversion's files are in the manifest, so `quals model
// verify` checks them. Against the loopback fake hub (test/support/fake-hub.mjs) and the real
// import, loader and ONNX Runtime; the CLI test runs dist/cli.js (`npm run build` first).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { IMPORT_DIR, MANIFEST_FILE, downloadHubModel, hubCacheFolder, hubImportFolder } from '../../src/models/hub';
import { verifyHubFolder } from '../../src/models/hub-verify';
import { importCheckpoint } from '../../src/models/import';
import { readModelFolder } from '../../src/models/model-files';
import { CancelledError, ModelError } from '../../src/scoring/errors';
import { loadModel, resolveModelDir } from '../../src/scoring/model/loader';
import { prepareModel } from '../../src/server/prepare-model';
import { GRAPH_FILES, fixtureDir } from '../support/checkpoint-fixtures';
import { withFakeHub } from '../support/hub-suite';

const ID = 'lmqg-test/bart-a';
const ONNX_ID = 'lmqg-test/bart-a-onnx';
const INT8_FILES = ['onnx/encoder_model_int8.onnx', 'onnx/decoder_step_quals_int8.onnx', 'onnx/cross_kv_quals_int8.onnx'];

/** A local int8 import of the same checkpoint, to compare the cache's conversion with. */
let reference: string;

const env = withFakeHub('quals-hub-int8-', async (tmp) => {
  reference = (await importCheckpoint(fixtureDir('bart-a'), path.join(tmp, 'ref'), { variant: 'int8' })).outDir;
  return {
    [ID]: { dir: fixtureDir('bart-a'), exclude: ['pytorch_model.bin'] },
    [ONNX_ID]: fixtureDir('bart-a', 'onnx-layout'),
  };
});

function resolve(cacheDir: string, variant: 'fp32' | 'int8', extra: Partial<Parameters<typeof downloadHubModel>[1]> = {}, id = ID): Promise<string> {
  return downloadHubModel(id, { cacheDir, hubUrl: env.hub.url, retryDelayMs: 0, timeoutMs: 5000, variant, ...extra });
}

function manifest(cacheDir: string, id = ID) {
  return JSON.parse(fs.readFileSync(path.join(hubCacheFolder(cacheDir, id), MANIFEST_FILE), 'utf8')) as {
    files: Record<string, { size: number; etag: string }>;
    import?: { files: string[] };
  };
}

function assertSameFiles(a: string, b: string, files: readonly string[]): void {
  for (const f of files) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs`);
}

/** Hidden staging folders of the conversion left in the cache folder. */
function stagingLeft(cacheDir: string): string[] {
  return fs.readdirSync(hubCacheFolder(cacheDir, ID)).filter((n) => n.startsWith(`.${IMPORT_DIR}.`));
}

describe('int8 from a hub checkpoint repo', () => {
  test('the first request for int8 converts both variants, records them for verify, and loads in ONNX Runtime', async () => {
    const cacheDir = env.freshCache();
    const dir = await resolve(cacheDir, 'int8');
    assert.equal(dir, hubImportFolder(cacheDir, ID));
    assert.equal(readModelFolder(dir, 'int8').stepPaths?.decoder, path.join(dir, 'onnx/decoder_step_quals_int8.onnx'));
    readModelFolder(dir, 'fp32');
    // The same bytes as a local `quals model import --variant int8`, both variants.
    assertSameFiles(dir, reference, [...GRAPH_FILES, ...INT8_FILES]);

    const m = manifest(cacheDir);
    // Which variants the conversion holds is quals.json's to say; the manifest records only files.
    assert.deepEqual(Object.keys(m.import ?? {}), ['files']);
    for (const f of INT8_FILES) {
      assert.ok(m.import?.files.includes(`${IMPORT_DIR}/${f}`), `${f} is recorded`);
      assert.match(m.files[`${IMPORT_DIR}/${f}`]!.etag, /^[0-9a-f]{64}$/);
    }
    const report = await verifyHubFolder(hubCacheFolder(cacheDir, ID));
    assert.deepEqual(report.damaged, []);
    assert.ok(report.checked >= m.import!.files.length + 5, `checked ${report.checked}`);

    // Offline from here: both variants resolve without a request, and int8 runs.
    const before = env.hub.log.length;
    assert.equal(await resolve(cacheDir, 'fp32'), dir);
    const model = await loadModel({ model: ID, cacheDir, hubUrl: env.hub.url, variant: 'int8', device: 'cpu' });
    try {
      assert.equal(model.folder.variant, 'int8');
      assert.equal(model.seq2seq.design, 'quals-step');
      assert.equal(model.folder.encoderPath, path.join(dir, 'onnx/encoder_model_int8.onnx'));
    } finally {
      await model.dispose();
    }
    assert.equal(env.hub.log.length, before, 'no request once converted');
  });

  test('an fp32 conversion in the cache gains the int8 files without a request; fp32 stays as it was', async () => {
    const cacheDir = env.freshCache();
    const dir = await resolve(cacheDir, 'fp32');
    assert.throws(() => readModelFolder(dir, 'int8'), /has no int8 variant/);
    const int8Recorded = () => INT8_FILES.filter((f) => manifest(cacheDir).import?.files.includes(`${IMPORT_DIR}/${f}`));
    assert.deepEqual(int8Recorded(), []);
    const fp32Before = new Map(GRAPH_FILES.map((f) => [f, fs.readFileSync(path.join(dir, f))]));

    const before = env.hub.log.length;
    const logs: string[] = [];
    assert.equal(await resolve(cacheDir, 'int8', { log: (l) => logs.push(l) }), dir);
    assert.equal(env.hub.log.length, before, 'not a single request to the hub');
    assert.ok(logs.some((l) => /Adding the int8 variant .*\(no download\)/.test(l)), logs.join('\n'));
    readModelFolder(dir, 'int8');
    assertSameFiles(dir, reference, INT8_FILES);
    for (const [f, bytes] of fp32Before) assert.ok(fs.readFileSync(path.join(dir, f)).equals(bytes), `${f} changed`);
    assert.deepEqual(int8Recorded(), INT8_FILES, 'the int8 files are recorded for quals model verify');
    assert.deepEqual((await verifyHubFolder(hubCacheFolder(cacheDir, ID))).damaged, []);

    // Asking for fp32 again keeps the int8 files: no conversion, no request.
    const again: string[] = [];
    assert.equal(await resolve(cacheDir, 'fp32', { log: (l) => again.push(l) }), dir);
    assert.equal(await resolve(cacheDir, 'int8', { log: (l) => again.push(l) }), dir);
    assert.deepEqual(again, []);
    assert.equal(env.hub.log.length, before);
  });

  test('an interrupted int8 conversion leaves the fp32 conversion serving; the next request completes it', async () => {
    const cacheDir = env.freshCache();
    const dir = await resolve(cacheDir, 'fp32');
    const controller = new AbortController();
    let progress = 0;
    await assert.rejects(
      resolve(cacheDir, 'int8', { signal: controller.signal, onImportProgress: () => ++progress === 20 && controller.abort() }),
      (e: unknown) => e instanceof CancelledError,
    );
    // What a process killed in the middle leaves: a hidden staging folder with int8 files in it.
    const dead = path.join(hubCacheFolder(cacheDir, ID), `.${IMPORT_DIR}.importing-99999-dead`);
    fs.mkdirSync(path.join(dead, 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(dead, 'onnx/encoder_model_int8.onnx'), Buffer.alloc(10));

    const before = env.hub.log.length;
    assert.equal(await resolve(cacheDir, 'fp32'), dir, 'fp32 is served as before, without converting');
    readModelFolder(dir, 'fp32');
    for (const f of INT8_FILES) assert.ok(!fs.existsSync(path.join(dir, f)), `no half-written ${f} in the loaded folder`);
    assert.deepEqual((await verifyHubFolder(hubCacheFolder(cacheDir, ID))).damaged, []);

    assert.equal(await resolve(cacheDir, 'int8'), dir);
    assertSameFiles(dir, reference, INT8_FILES);
    assert.deepEqual(stagingLeft(cacheDir), [], 'the dead staging folder is cleaned up under the lock');
    assert.equal(env.hub.log.length, before, 'resumed from the cached checkpoint');
  });

  test('quals model verify finds a damaged int8 file; once removed, the next request converts again without a download', async () => {
    const cacheDir = env.freshCache();
    const dir = await resolve(cacheDir, 'int8');
    const damaged = path.join(dir, 'onnx/encoder_model_int8.onnx');
    const bytes = fs.readFileSync(damaged);
    bytes[bytes.length - 1] ^= 0xff; // same size: only the checksum can tell
    fs.writeFileSync(damaged, bytes);
    const folder = hubCacheFolder(cacheDir, ID);
    const report = await verifyHubFolder(folder, { remove: true });
    assert.deepEqual(report.damaged.map((d) => d.file), [`${IMPORT_DIR}/onnx/encoder_model_int8.onnx`]);
    assert.match(report.damaged[0]!.why, /^sha256/);

    const before = env.hub.log.length;
    assert.equal(await resolve(cacheDir, 'int8'), dir);
    assert.equal(env.hub.log.length, before);
    assertSameFiles(dir, reference, INT8_FILES);
    const after = await verifyHubFolder(folder);
    assert.deepEqual([after.damaged, after.unverifiable], [[], []]);
  });

  test('the language server\'s prepare step converts int8 too when the variant says so (hub repo, checkpoint folder)', async () => {
    const cacheDir = env.freshCache();
    const logs: string[] = [];
    // The server resolves hub ids on $HF_ENDPOINT, as the loader does.
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = env.hub.url;
    try {
      const r = await prepareModel({ kind: 'hub', model: ID, cacheDir, variant: 'int8' }, { resolveModelDir, importCheckpoint, log: (l) => logs.push(l) }, () => undefined, new AbortController().signal);
      assert.equal(r.state, 'done', r.message);
      assert.equal(r.dir, hubImportFolder(cacheDir, ID));
      readModelFolder(r.dir!, 'int8');
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    }
    // A local checkpoint folder, the picker's other kind, is imported with int8 too.
    const out = path.join(env.tmp, 'picked-int8');
    const local = await prepareModel({ kind: 'checkpoint', model: fixtureDir('bart-a'), outDir: out, cacheDir, variant: 'int8' }, { resolveModelDir, importCheckpoint, log: (l) => logs.push(l) }, () => undefined, new AbortController().signal);
    assert.equal(local.state, 'done', local.message);
    assertSameFiles(out, reference, INT8_FILES);
  });
});

describe('`quals model import ORG/NAME --variant int8` without --out', () => {
  test('converts both variants into the model cache and says how to load int8', async () => {
    const cacheDir = env.freshCache();
    // Not spawnSync: the fake hub answers from this process's event loop.
    const cli = await promisify(execFile)(process.execPath, [path.resolve('dist/cli.js'), 'model', 'import', ID, '--variant', 'int8', '--cache-dir', cacheDir, '--quiet'], {
      encoding: 'utf8',
      env: { ...process.env, HF_ENDPOINT: env.hub.url },
    });
    assert.match(cli.stdout, /converted in the model cache \(.*fp32 and int8 \(--variant int8\)\)/);
    assert.equal(cli.stdout.trim().split('\n').at(-1), hubImportFolder(cacheDir, ID));
    readModelFolder(hubImportFolder(cacheDir, ID), 'int8');
  });
});

describe('int8 from an ONNX hub repo', () => {
  test('without int8 files, before and after an fp32 download, the error says what to do', async () => {
    const cacheDir = env.freshCache();
    const expected = (e: unknown) => {
      assert.ok(e instanceof ModelError, String(e));
      assert.equal(e.code, 'not-found');
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, /lmqg-test\/bart-a-onnx .* ONNX export without the int8 variant \(onnx\/encoder_model_int8\.onnx\)/);
      assert.match(e.message, /Set the variant \(quals\.modelVariant or --variant\) to fp32/);
      assert.match(e.message, /quals model import CHECKPOINT --out DIR --variant int8/);
      return true;
    };
    await assert.rejects(resolve(cacheDir, 'int8', {}, ONNX_ID), expected);
    await resolve(cacheDir, 'fp32', {}, ONNX_ID);
    await assert.rejects(resolve(cacheDir, 'int8', {}, ONNX_ID), (e: unknown) => expected(e) && /it has the fp32 variant/.test((e as Error).message));
    readModelFolder(hubCacheFolder(cacheDir, ONNX_ID), 'fp32');
  });
});
