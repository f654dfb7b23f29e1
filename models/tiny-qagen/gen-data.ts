/**
 * Builds the tiny QAGen model's tokenizer, its packed training data and the held-out evaluation
 * set. Usage: npx tsx models/tiny-qagen/gen-data.ts [outDir=models/tiny-qagen/train/data] [nTrain=300000] [seed=1]
 *
 * Training rows follow the real QAGen's format: source = BPE(text) + </s> (no <s>), target =
 * BPE(question) + ĠstrutConnector + BPE(answer, no leading space) + </s>.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { QAGEN_SEP_TOKEN } from '../../src/modelgen/tokenizer-builder';
import { allWords, evalSet, mulberry32, qaPairs, sampleText, shuffle, tinyTokenizer, type Rng } from './corpus';

const PAD = 1;
const EOS = 2;

const FACTS_PER_TEXT = [1, 1, 2, 2, 3, 4, 4, 5, 5, 6]; // summary-like and source-like inputs
const PAIRS_PER_TEXT = 2;

function main(): void {
  const outDir = process.argv[2] ?? 'models/tiny-qagen/train/data';
  const nTrain = Number(process.argv[3] ?? 300000);
  const seed = Number(process.argv[4] ?? 1);
  fs.mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();

  const built = tinyTokenizer();
  const write = (f: string, o: unknown) => fs.writeFileSync(path.join(outDir, f), JSON.stringify(o, null, 1));
  write('tokenizer.json', built.tokenizerJson);
  write('tokenizer_config.json', built.tokenizerConfig);
  write('special_tokens_map.json', built.specialTokensMap);
  const tok = new Tokenizer(built.tokenizerJson, built.tokenizerConfig);
  const enc = (s: string) => tok.encode(s, { add_special_tokens: false }).ids;
  const sep = built.vocab.get(QAGEN_SEP_TOKEN)!;
  if (enc(` strutConnector`).join() !== String(sep)) throw new Error('separator is not one token');
  for (const w of allWords()) {
    if (enc(w).length !== 1 || enc(` ${w}`).length !== 1) throw new Error(`word "${w}" is not one token`);
  }

  const rng: Rng = mulberry32(seed);
  const srcs: number[][] = [];
  const tgts: number[][] = [];
  while (srcs.length < nTrain) {
    const nf = FACTS_PER_TEXT[Math.floor(rng() * FACTS_PER_TEXT.length)]!;
    const text = sampleText(rng, nf, nf >= 3 ? Math.floor(rng() * 3) : 0);
    const src = [...enc(text.text), EOS];
    const pairs = shuffle(rng, text.facts.flatMap(qaPairs)).slice(0, PAIRS_PER_TEXT);
    for (const qa of pairs) {
      if (srcs.length >= nTrain) break;
      srcs.push(src);
      tgts.push([...enc(qa.question), sep, ...enc(qa.answer), EOS]);
    }
  }
  const maxLen = (rows: number[][]) => rows.reduce((m, r) => Math.max(m, r.length), 0);
  const pack = (rows: number[][], len: number) => {
    const a = new Uint16Array(rows.length * len).fill(PAD);
    rows.forEach((r, i) => a.set(r, i * len));
    return Buffer.from(a.buffer);
  };
  const srcLen = maxLen(srcs);
  const tgtLen = maxLen(tgts);
  fs.writeFileSync(path.join(outDir, 'train_src.u16'), pack(srcs, srcLen));
  fs.writeFileSync(path.join(outDir, 'train_tgt.u16'), pack(tgts, tgtLen));
  write('train_meta.json', { n: nTrain, src_len: srcLen, tgt_len: tgtLen, vocab_size: built.vocab.size, pad: PAD, bos: 0, eos: EOS, decoder_start: EOS, sep, seed });
  write('eval.json', evalSet(seed, 48));
  console.log(`vocab=${built.vocab.size} merges=${built.merges.length} train=${nTrain} src_len<=${srcLen} tgt_len<=${tgtLen} sep=${sep} in ${Date.now() - t0} ms`);
}

main();
