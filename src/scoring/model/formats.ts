/**
 * Model formats: how a family of QA-generation models wants its input and how its output splits
 * into (question, answer) pairs.
 *
 * - `qagen`: the QUALS paper's QAGen (BART). Input BPE(text) + </s>, decoder start </s>, output
 *   `question ĠstrutConnector answer </s>`; split on the separator token id.
 * - `lmqg`: lmqg/*-squad-qag models. T5 variants take the prefix `generate question and answer: `;
 *   output `question: Q1, answer: A1 | question: Q2, answer: A2`. Each segment is scored on its own,
 *   an adaptation of QUALS (the paper's model emits one pair per sequence).
 */
import { ModelError } from '../errors';
import type { ModelFormatName } from '../engine-api';
import type { TextTokenizer } from './tokenizer';

/** One (question, answer) pair split out of a generated sequence. */
export interface QaSplit {
  question: string;
  answer: string;
  questionIds: number[];
  answerIds: number[];
  /** The target scored by teacher forcing: question, separator, answer, EOS. */
  targetIds: number[];
  /** Number of leading target tokens that belong to the question (separator excluded). */
  questionLength: number;
  /** Number of target tokens that form the separator between question and answer. */
  separatorLength: number;
}

export interface EncodedInput {
  ids: number[];
  tokensTotal: number;
  tokensKept: number;
  truncated: boolean;
  /** UTF-16 offset in the text where the kept part ends. */
  charsKept: number;
}

export interface ModelFormat {
  readonly name: ModelFormatName;
  /** Shown in reports; says when the format adapts QUALS rather than reproducing it. */
  readonly note: string;
  readonly decoderStartId: number;
  /**
   * Tokens forced after the start token before anything is generated or scored (Hugging Face
   * BART's forced BOS); part of every decoder input, never of a QA pair's target or its score.
   */
  readonly decoderPrefix: readonly number[];
  readonly eosId: number;
  readonly padId: number;
  /**
   * Encoder input for a text: prefix + tokens truncated to the model's limit + EOS. With
   * `reference`, the QUALS authors' truncation (fairseq's BARTHubInterface.encode: at most
   * max_positions - 2 BPE tokens, then `</s>`, so 1022 + 1 for BART); lmqg is unaffected.
   */
  encodeInput(text: string, opts?: { reference?: boolean }): EncodedInput;
  /** Pairs in one generated sequence (EOS-terminated or not); null when it does not have the format's shape. */
  split(generated: readonly number[]): QaSplit[] | null;
  /** Decoder tokens (after the start token) that pose the question before the answer is generated. */
  answerPrompt(pair: QaSplit): number[];
  /** Answer text from greedily generated ids (stop token excluded). */
  answerText(ids: readonly number[]): string;
}

export interface FormatContext {
  tokenizer: TextTokenizer;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  /** Max tokens the encoder accepts, EOS included. */
  maxInputTokens: number;
  /** lmqg's trainer_config.json when the model folder has one (it says whether a task prefix was used). */
  trainerConfig?: Record<string, unknown> | null;
}

/** The separator of the QUALS QAGen model: a GPT-2 BPE vocabulary token (id 50259 in BART). */
export const QAGEN_SEPARATOR = 'ĠstrutConnector';
const LMQG_T5_PREFIX = 'generate question and answer: ';

function numberField(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function specialIds(ctx: FormatContext): { eos: number; pad: number; start: number } {
  const pick = (key: string) => numberField(ctx.generationConfig, key) ?? numberField(ctx.config, key);
  const eos = pick('eos_token_id');
  const pad = pick('pad_token_id');
  if (eos === undefined) throw new ModelError('invalid-file', 'config.json has no eos_token_id.');
  const start = pick('decoder_start_token_id') ?? pad;
  if (start === undefined) throw new ModelError('invalid-file', 'config.json has no decoder_start_token_id.');
  return { eos, pad: pad ?? eos, start };
}

/**
 * Encoder input: `before` + tokens of prefix + text, cut to the model's limit (or to `budget`
 * tokens when given), + `after`.
 */
function truncatedInput(ctx: FormatContext, prefix: string, text: string, before: readonly number[], after: readonly number[], budget?: number): EncodedInput {
  const ids = ctx.tokenizer.encode(prefix + text);
  const limit = budget ?? ctx.maxInputTokens - before.length - after.length;
  if (ids.length <= limit) {
    return { ids: [...before, ...ids, ...after], tokensTotal: ids.length, tokensKept: ids.length, truncated: false, charsKept: text.length };
  }
  const kept = ids.slice(0, limit);
  const keptText = ctx.tokenizer.decode(kept);
  // Byte-level BPE decodes to the exact prefix; other tokenizers may normalise, so fall back to a proportion.
  const charsKept = (prefix + text).startsWith(keptText)
    ? Math.max(0, keptText.length - prefix.length)
    : Math.round((text.length * limit) / ids.length);
  return { ids: [...before, ...kept, ...after], tokensTotal: ids.length, tokensKept: limit, truncated: true, charsKept };
}

function qagenFormat(ctx: FormatContext): ModelFormat {
  const { eos, pad, start } = specialIds(ctx);
  const sep = ctx.tokenizer.tokenId(QAGEN_SEPARATOR);
  if (sep === undefined) {
    throw new ModelError(
      'format',
      `The model's tokenizer has no "${QAGEN_SEPARATOR}" token, so it is not a QAGen (qagen format) model. For lmqg/*-squad-qag exports set the format to "lmqg".`,
    );
  }
  const tok = ctx.tokenizer;
  return {
    name: 'qagen',
    note: 'QAGen (BART), as in the QUALS paper',
    decoderStartId: start,
    decoderPrefix: [], // fairseq's convention: decoding starts from </s> alone
    eosId: eos,
    padId: pad,
    // fairseq's hub encode keeps max_positions - 2 BPE tokens (room for <s> and </s>; the authors pass
    // no_bos, so the input is one token shorter than the model allows).
    encodeInput: (text, opts) => truncatedInput(ctx, '', text, [], [eos], opts?.reference ? ctx.maxInputTokens - 2 : undefined),
    split(generated) {
      const body = generated[generated.length - 1] === eos ? generated.slice(0, -1) : generated.slice();
      const at = body.indexOf(sep);
      if (at < 0 || body.indexOf(sep, at + 1) >= 0 || body.includes(eos)) return null;
      const questionIds = body.slice(0, at);
      const answerIds = body.slice(at + 1);
      return [
        {
          question: tok.decode(questionIds).trim(),
          answer: tok.decode(answerIds).trim(),
          questionIds,
          answerIds,
          targetIds: [...questionIds, sep, ...answerIds, eos],
          questionLength: questionIds.length,
          separatorLength: 1,
        },
      ];
    },
    answerPrompt: (pair) => [...pair.questionIds, sep],
    answerText: (ids) => tok.decode(ids.filter((i) => i !== eos)).trim(),
  };
}

const LMQG_SEGMENT = /^\s*question:\s*(.*?),\s*answer:\s*(.*?)\s*$/s;

function lmqgFormat(ctx: FormatContext): ModelFormat {
  const { eos, pad, start } = specialIds(ctx);
  const tok = ctx.tokenizer;
  const prefix = lmqgTaskPrefix(ctx);
  // lmqg trained with Hugging Face's tokenizer and generate: its special tokens around the input,
  // and the checkpoint's forced BOS after the start token.
  const specials = tok.specialsAround();
  const after = specials.after.length ? specials.after : [eos];
  const forcedBos = numberField(ctx.generationConfig, 'forced_bos_token_id');
  const segmentTarget = (question: string, answer: string) => {
    const questionIds = tok.encode(`question: ${question},`);
    const sepIds = tok.encode(' answer:');
    const answerIds = tok.encode(` ${answer}`);
    return { questionIds, sepIds, answerIds };
  };
  return {
    name: 'lmqg',
    note: 'lmqg QA generation: each "question: Q, answer: A" segment scored on its own (an adaptation of QUALS)',
    decoderStartId: start,
    decoderPrefix: forcedBos === undefined ? [] : [forcedBos],
    eosId: eos,
    padId: pad,
    encodeInput: (text) => truncatedInput(ctx, prefix, text, specials.before, after),
    split(generated) {
      const text = tok.decode(generated.filter((i) => i !== eos));
      const out: QaSplit[] = [];
      for (const segment of text.split('|')) {
        const m = LMQG_SEGMENT.exec(segment);
        if (!m) return null;
        const question = m[1]!.trim();
        const answer = m[2]!.trim();
        const { questionIds, sepIds, answerIds } = segmentTarget(question, answer);
        out.push({
          question,
          answer,
          questionIds,
          answerIds,
          targetIds: [...questionIds, ...sepIds, ...answerIds, eos],
          questionLength: questionIds.length,
          separatorLength: sepIds.length,
        });
      }
      return out.length ? out : null;
    },
    answerPrompt: (pair) => tok.encode(`question: ${pair.question}, answer:`),
    answerText: (ids) => tok.decode(ids.filter((i) => i !== eos)).split('|')[0]!.trim(),
  };
}

/**
 * lmqg's trainer_config.json records `prefix_types` (["qag"] for T5 models trained with the task
 * prefix, null for BART). Without that file, T5-family models get the prefix, as lmqg trains them.
 */
function lmqgTaskPrefix(ctx: FormatContext): string {
  const trainer = ctx.trainerConfig;
  if (trainer && 'prefix_types' in trainer) {
    const types = trainer.prefix_types;
    return Array.isArray(types) && types.includes('qag') ? LMQG_T5_PREFIX : '';
  }
  return String(ctx.config.model_type ?? '').includes('t5') ? LMQG_T5_PREFIX : '';
}

export const FORMAT_NAMES: readonly ModelFormatName[] = ['qagen', 'lmqg'];

export function createFormat(name: string, ctx: FormatContext): ModelFormat {
  if (name === 'qagen') return qagenFormat(ctx);
  if (name === 'lmqg') return lmqgFormat(ctx);
  throw new ModelError('format', `Unknown model format "${name}": use one of ${FORMAT_NAMES.join(', ')}.`);
}
