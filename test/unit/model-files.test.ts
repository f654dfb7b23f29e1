import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelVariant } from '../../src/scoring/engine-api';
import { ModelError, type ModelErrorCode } from '../../src/scoring/errors';
import { isHubId, modelFileList, readModelFolder } from '../../src/models/model-files';

// The loader only sniffs ONNX files: field 1 (ir_version = 8) then a few arbitrary bytes.
const FAKE_ONNX = Buffer.from([0x08, 0x08, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74]);

const BART_CONFIG = {
  model_type: 'bart',
  is_encoder_decoder: true,
  vocab_size: 300,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  decoder_start_token_id: 2,
  forced_bos_token_id: 0,
};
const GENERATION_CONFIG = { decoder_start_token_id: 2, eos_token_id: 2, forced_bos_token_id: 0, max_length: 32 };
const TOKENIZER = { version: '1.0', model: { type: 'BPE', vocab: { a: 0 }, merges: [] } };
const TOKENIZER_CONFIG = { tokenizer_class: 'BartTokenizer', model_max_length: 1024 };

let tmp: string;
let counter = 0;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-model-files-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes a complete valid folder for the given variants; `files` overrides (null deletes) entries. */
function makeFolder(files: Record<string, unknown> = {}, variants: ModelVariant[] = ['fp32']): string {
  const dir = path.join(tmp, `model-${counter++}`);
  const all: Record<string, unknown> = {
    'config.json': BART_CONFIG,
    'generation_config.json': GENERATION_CONFIG,
    'tokenizer.json': TOKENIZER,
    'tokenizer_config.json': TOKENIZER_CONFIG,
  };
  for (const v of variants) {
    const { required } = modelFileList(v);
    for (const f of required.filter((f) => f.endsWith('.onnx'))) all[f] = FAKE_ONNX;
  }
  Object.assign(all, files);
  for (const [name, content] of Object.entries(all)) {
    if (content === null) continue;
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, Buffer.isBuffer(content) || typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function expectModelError(fn: () => unknown, code: ModelErrorCode, ...patterns: RegExp[]): ModelError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ModelError, `expected a ModelError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.doesNotMatch(caught.message, /\n/, 'messages are one line');
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

describe('readModelFolder: a valid folder', () => {
  test('returns absolute paths, parsed JSON and the decoder start id', () => {
    const dir = makeFolder();
    const m = readModelFolder(dir, 'fp32');
    assert.equal(m.dir, path.resolve(dir));
    assert.equal(m.variant, 'fp32');
    assert.equal(m.encoderPath, path.join(dir, 'onnx', 'encoder_model.onnx'));
    assert.equal(m.decoderPath, path.join(dir, 'onnx', 'decoder_model_merged.onnx'));
    assert.equal(m.config.vocab_size, 300);
    assert.deepEqual(m.generationConfig, GENERATION_CONFIG);
    assert.equal(m.decoderStartTokenId, 2);
    assert.deepEqual(m.tokenizerJson, TOKENIZER);
    assert.deepEqual(m.tokenizerConfig, TOKENIZER_CONFIG);
    assert.equal(m.qualsJson, null);
  });

  test('picks the files of the requested variant', () => {
    const dir = makeFolder({}, ['fp32', 'quantized', 'fp16']);
    assert.equal(readModelFolder(dir, 'quantized').encoderPath, path.join(dir, 'onnx', 'encoder_model_quantized.onnx'));
    assert.equal(readModelFolder(dir, 'fp16').decoderPath, path.join(dir, 'onnx', 'decoder_model_merged_fp16.onnx'));
  });

  test('without generation_config.json, generation settings come from config.json', () => {
    const m = readModelFolder(makeFolder({ 'generation_config.json': null }));
    assert.deepEqual(m.generationConfig, { decoder_start_token_id: 2, bos_token_id: 0, eos_token_id: 2, pad_token_id: 1, forced_bos_token_id: 0 });
  });

  test('generation_config.json decoder_start_token_id wins over config.json', () => {
    const m = readModelFolder(makeFolder({ 'generation_config.json': { decoder_start_token_id: 0 } }));
    assert.equal(m.decoderStartTokenId, 0);
  });

  test('a T5 config without decoder_start_token_id starts from pad_token_id', () => {
    const t5 = { model_type: 't5', vocab_size: 300, pad_token_id: 0, eos_token_id: 1 };
    const m = readModelFolder(makeFolder({ 'config.json': t5, 'generation_config.json': null }));
    assert.equal(m.decoderStartTokenId, 0);
  });

  test('accepts a UTF-8 byte order mark in JSON files', () => {
    const m = readModelFolder(makeFolder({ 'tokenizer_config.json': `\uFEFF${JSON.stringify(TOKENIZER_CONFIG)}` }));
    assert.deepEqual(m.tokenizerConfig, TOKENIZER_CONFIG);
  });

  test('reads quals.json format and options', () => {
    const quals = { format: 'lmqg', options: { numBeams: 8, numBeamGroups: 4, mode: 'reference' } };
    const m = readModelFolder(makeFolder({ 'quals.json': quals }));
    assert.deepEqual(m.qualsJson, quals);
  });

  test('a quals.json with only options leaves the format open', () => {
    const m = readModelFolder(makeFolder({ 'quals.json': { options: { maxPairs: 3 } } }));
    assert.deepEqual(m.qualsJson, { options: { maxPairs: 3 } });
  });
});

describe('readModelFolder: errors', () => {
  test('a folder that does not exist', () => {
    expectModelError(() => readModelFolder(path.join(tmp, 'nope')), 'not-found', /nope does not exist/, /hub id/);
  });

  test('a file instead of a folder', () => {
    const file = path.join(tmp, 'plain.txt');
    fs.writeFileSync(file, 'x');
    expectModelError(() => readModelFolder(file), 'not-found', /is a file, not a folder/);
  });

  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    test(`missing ${file}`, () => {
      expectModelError(() => readModelFolder(makeFolder({ [file]: null })), 'missing-file', new RegExp(`has no ${file.replace('.', '\\.')}`));
    });
  }

  for (const file of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx']) {
    test(`missing ${file} says how to export`, () => {
      expectModelError(() => readModelFolder(makeFolder({ [file]: null })), 'missing-file', new RegExp(`has no ${file.replace('.', '\\.')}`), /optimum-cli export onnx --task text2text-generation-with-past/);
    });
  }

  test('an unmerged decoder export is named as such', () => {
    const dir = makeFolder({ 'onnx/decoder_model_merged.onnx': null, 'onnx/decoder_model.onnx': FAKE_ONNX, 'onnx/decoder_with_past_model.onnx': FAKE_ONNX });
    expectModelError(() => readModelFolder(dir), 'missing-file', /has onnx\/decoder_model\.onnx but no onnx\/decoder_model_merged\.onnx/, /merged decoder is needed/);
  });

  test('a missing variant lists the variants that are present', () => {
    const dir = makeFolder({}, ['fp32', 'quantized']);
    expectModelError(() => readModelFolder(dir, 'fp16'), 'missing-file', /no onnx\/encoder_model_fp16\.onnx \(variant fp16\)/, /fp32, quantized variants/);
  });

  test('a variant with only one of its two files does not count as present', () => {
    const dir = makeFolder({ 'onnx/encoder_model_fp16.onnx': FAKE_ONNX }, ['quantized']);
    expectModelError(() => readModelFolder(dir, 'fp16'), 'missing-file', /has the quantized variant, so set the variant to that/);
  });

  for (const file of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'quals.json']) {
    test(`invalid JSON in ${file}`, () => {
      const dir = makeFolder({ [file]: '{\n  "a": 1,\n  oops\n}' });
      expectModelError(() => readModelFolder(dir), 'invalid-file', new RegExp(`${file.replace('.', '\\.')} is not valid JSON \\(.+ at line 3, column 3\\)`));
    });
  }

  test('an empty JSON file', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'config.json': '' })), 'invalid-file', /config\.json is not valid JSON/);
  });

  test('JSON that is not an object', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'tokenizer_config.json': [1, 2] })), 'invalid-file', /tokenizer_config\.json must hold a JSON object, not an array/);
  });

  test('a tokenizer.json without a model section', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'tokenizer.json': { version: '1.0' } })), 'invalid-file', /tokenizer\.json has no "model" section/);
  });

  test('an ONNX file that is text', () => {
    const dir = makeFolder({ 'onnx/decoder_model_merged.onnx': '<html>Not found</html>' });
    expectModelError(() => readModelFolder(dir), 'invalid-file', /decoder_model_merged\.onnx is not an ONNX model/);
  });

  test('an empty ONNX file', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'onnx/encoder_model.onnx': Buffer.alloc(0) })), 'invalid-file', /encoder_model\.onnx is empty/);
  });

  test('an ONNX file that is a Git LFS pointer', () => {
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n';
    expectModelError(() => readModelFolder(makeFolder({ 'onnx/encoder_model.onnx': pointer })), 'invalid-file', /Git LFS pointer/, /git lfs pull/);
  });

  test('a config that is not an encoder-decoder', () => {
    const gpt2 = { model_type: 'gpt2', vocab_size: 300, bos_token_id: 0, eos_token_id: 0 };
    expectModelError(() => readModelFolder(makeFolder({ 'config.json': gpt2 })), 'format', /describes a gpt2 that is not an encoder-decoder/);
  });

  test('is_encoder_decoder false wins over the model type', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'config.json': { ...BART_CONFIG, is_encoder_decoder: false } })), 'format', /not an encoder-decoder/);
  });

  test('a config without vocab_size', () => {
    const { vocab_size: _, ...noVocab } = BART_CONFIG;
    expectModelError(() => readModelFolder(makeFolder({ 'config.json': noVocab })), 'invalid-file', /config\.json has no valid vocab_size/);
  });

  test('no decoder start id anywhere (BART)', () => {
    const { decoder_start_token_id: _, ...noStart } = BART_CONFIG;
    const dir = makeFolder({ 'config.json': noStart, 'generation_config.json': { max_length: 20 } });
    expectModelError(() => readModelFolder(dir), 'invalid-file', /has no decoder_start_token_id/);
  });

  test('a decoder start id outside the vocabulary', () => {
    const dir = makeFolder({ 'generation_config.json': { decoder_start_token_id: 300 } });
    expectModelError(() => readModelFolder(dir), 'invalid-file', /decoder_start_token_id in .*generation_config\.json is 300, not a token id below vocab_size 300/);
  });

  test('an invalid eos_token_id', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'config.json': { ...BART_CONFIG, eos_token_id: 'x' } })), 'invalid-file', /invalid eos_token_id/);
  });

  test('quals.json with an unknown format', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { format: 'gpt' } })), 'format', /quals\.json names the unknown model format "gpt"/, /"qagen"/);
  });

  test('quals.json with an unknown option key names the key', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { format: 'qagen', options: { numBeam: 4 } } })), 'invalid-file', /unknown option "numBeam"/, /numBeams/);
  });

  test('quals.json with an option of the wrong type', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { options: { numBeams: '60' } } })), 'invalid-file', /option "numBeams" to "60"; it must be a number/);
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { options: { mode: 'fast' } } })), 'invalid-file', /"mode" to "fast"/);
  });

  test('quals.json with an unknown top-level key or non-object options', () => {
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { formt: 'qagen' } })), 'invalid-file', /unknown key "formt"/);
    expectModelError(() => readModelFolder(makeFolder({ 'quals.json': { options: [1] } })), 'invalid-file', /"options" must be a JSON object/);
  });

  test('an unknown variant name', () => {
    expectModelError(() => readModelFolder(makeFolder(), 'int4' as ModelVariant), 'format', /Unknown model variant "int4"/);
  });
});

describe('isHubId', () => {
  test('org/name ids', () => {
    for (const id of ['lmqg/t5-small-squad-qag', 'Xenova/bart-large-cnn', 'a/b', 'org_1/model.v2']) assert.equal(isHubId(id, tmp), true, id);
  });

  test('paths and malformed names', () => {
    for (const s of ['./a/b', '../a', '/abs/path', '~/models/x', 'C:/models/x', 'c:\\x', 'a\\b', 'a/b/c', 'name', 'a//b', 'org/-bad', 'org/na..me', 'org/na--me', '']) {
      assert.equal(isHubId(s, tmp), false, s);
    }
  });

  test('an existing relative folder is a path, not an id', () => {
    fs.mkdirSync(path.join(tmp, 'org', 'local-model'), { recursive: true });
    assert.equal(isHubId('org/local-model', tmp), false);
    assert.equal(isHubId('org/other-model', tmp), true);
  });
});
