/**
 * What a Hugging Face checkpoint is, read from its JSON files alone: which graph builder
 * reproduces it (the architecture family) and how its output is read (the QUALS format).
 * Pure functions, so the hub can decide before downloading gigabytes and the import can explain
 * its choice in one line.
 */
import type { ModelFormatName } from '../scoring/engine-api';
import { ModelError } from '../scoring/errors';
import { QAGEN_SEPARATOR } from '../scoring/model/formats';

/** A graph builder in src/models/graphs/. */
export type ModelFamily = 'hf-bart' | 'hf-t5';

/** `architectures` entries of config.json that the builders reproduce. */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, ModelFamily>> = {
  BartForConditionalGeneration: 'hf-bart',
  MBartForConditionalGeneration: 'hf-bart',
  T5ForConditionalGeneration: 'hf-t5',
  MT5ForConditionalGeneration: 'hf-t5',
};

/** `model_type` values, for configs that have no `architectures` (older save_pretrained). */
const SUPPORTED_MODEL_TYPES: Readonly<Record<string, ModelFamily>> = { bart: 'hf-bart', mbart: 'hf-bart', t5: 'hf-t5', mt5: 'hf-t5' };

const SUPPORTED_TEXT =
  'QUALS can import BartForConditionalGeneration and MBartForConditionalGeneration (BART, mBART) and T5ForConditionalGeneration and MT5ForConditionalGeneration (T5, Flan-T5, mT5) checkpoints';

export interface FamilyChoice {
  family: ModelFamily;
  /** The architecture named in config.json, or `model_type <x>` when it names none. */
  architecture: string;
}

/**
 * The builder for config.json. A listed but unsupported architecture is an error even when
 * model_type looks right: BartForSequenceClassification has model_type "bart" and no LM head.
 */
export function detectFamily(config: Record<string, unknown>, where: string): FamilyChoice {
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  if (archs.length > 0) {
    const architecture = archs.find((a) => Object.hasOwn(SUPPORTED_ARCHITECTURES, a));
    if (architecture) return { family: SUPPORTED_ARCHITECTURES[architecture]!, architecture };
    throw new ModelError('format', `${where} names architectures ${JSON.stringify(archs)}, which QUALS cannot convert; ${SUPPORTED_TEXT} (a question-and-answer generation model with its LM head).`);
  }
  const type = typeof config.model_type === 'string' ? config.model_type : undefined;
  if (type && Object.hasOwn(SUPPORTED_MODEL_TYPES, type)) return { family: SUPPORTED_MODEL_TYPES[type]!, architecture: `model_type ${type}` };
  throw new ModelError('format', `${where} names no architectures and model_type ${JSON.stringify(type ?? null)}, which QUALS cannot convert; ${SUPPORTED_TEXT}.`);
}

/** Does a tokenizers file know `token`, as a vocabulary entry (BPE, WordPiece, Unigram) or an added token? */
export function tokenizerHasToken(tokenizerJson: Record<string, unknown>, token: string): boolean {
  const model = tokenizerJson.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) {
    if (vocab.some((entry) => Array.isArray(entry) && entry[0] === token)) return true; // Unigram: [piece, score]
  } else if (vocab && typeof vocab === 'object' && Object.hasOwn(vocab, token)) {
    return true;
  }
  const added = tokenizerJson.added_tokens;
  return Array.isArray(added) && added.some((t) => (t as { content?: unknown } | null)?.content === token);
}

export interface FormatEvidence {
  family: ModelFamily;
  config: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  hasTrainerConfig: boolean;
  /** The hub id the checkpoint came from, if any. */
  sourceId?: string;
  /** A format the source folder's own quals.json names. */
  qualsJsonFormat?: ModelFormatName;
}

export interface FormatChoice {
  format: ModelFormatName;
  /** Why, in words, for the import report. */
  reason: string;
}

/**
 * The format, from the strongest evidence down; null when nothing tells. lmqg evidence comes
 * before the separator token because every GPT-2-BPE tokenizer (so every BART, lmqg's BART QAG
 * models included) has `ĠstrutConnector` in its vocabulary: the token marks QAGen only when
 * nothing says lmqg.
 */
export function detectFormat(e: FormatEvidence): FormatChoice | null {
  if (e.qualsJsonFormat) return { format: e.qualsJsonFormat, reason: "named by the checkpoint's quals.json" };
  if (e.hasTrainerConfig) return { format: 'lmqg', reason: 'the checkpoint has an lmqg trainer_config.json' };
  const name = typeof e.config._name_or_path === 'string' ? e.config._name_or_path : '';
  if (/^lmqg\//i.test(e.sourceId ?? '')) return { format: 'lmqg', reason: `it comes from the lmqg organisation (${e.sourceId})` };
  if (/^lmqg\//i.test(name)) return { format: 'lmqg', reason: `config.json names ${name}` };
  if (tokenizerHasToken(e.tokenizerJson, QAGEN_SEPARATOR)) {
    return { format: 'qagen', reason: `its tokenizer has the QAGen separator ${QAGEN_SEPARATOR}; every BART tokenizer has it, so pass --format lmqg for an lmqg-style model` };
  }
  if (e.family === 'hf-t5') return { format: 'lmqg', reason: "it is a T5 model (lmqg's end-to-end QAG models are T5)" };
  return null;
}

/** The error for a checkpoint whose format nothing tells. */
export function formatUnknownError(where: string): ModelError {
  return new ModelError(
    'format',
    `Cannot tell how ${where} writes questions and answers (no lmqg trainer_config.json, no QAGen separator token, not a T5 model); pass --format qagen (the QUALS paper's BART QAGen) or --format lmqg (lmqg end-to-end QAG), or set quals.modelFormat in VS Code.`,
  );
}
