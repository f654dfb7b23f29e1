/**
 * The CLI flags shared by every command that scores (score, batch, eval): model selection and the
 * QUALS options. Flag names map one-to-one onto QualsOptions keys (checked by a unit test against
 * OPTION_KEYS and the VS Code settings), so the three surfaces cannot drift.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { Device, EngineConfig, ModelFormatName } from '../scoring/engine-api';
import { type QualsOptions, OptionsError } from '../scoring/options';
import { MODEL_VARIANTS } from '../models/model-files';

type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Flag -> option key, for options the CLI exposes. */
export const OPTION_FLAGS = {
  beams: 'numBeams',
  groups: 'numBeamGroups',
  diversity: 'diversityStrength',
  'diversity-count': 'diversityCount',
  'beam-search': 'beamSearch',
  'min-length': 'minLength',
  'max-length': 'maxLength',
  'length-penalty': 'lengthPenalty',
  'max-pairs': 'maxPairs',
  mode: 'mode',
  'answer-tokens': 'sourceAnswerMaxTokens',
} as const satisfies Record<string, keyof QualsOptions>;

export const DEFAULT_MODEL_ENV = 'QUALS_MODEL';

export const MODEL_FLAG_SPECS: FlagSpec = {
  model: { type: 'string' },
  device: { type: 'string' },
  format: { type: 'string' },
  variant: { type: 'string' },
  'cache-dir': { type: 'string' },
  threads: { type: 'string' },
};

export const OPTION_FLAG_SPECS: FlagSpec = Object.fromEntries(Object.keys(OPTION_FLAGS).map((f) => [f, { type: 'string' as const }]));

export const MODEL_FLAGS_HELP = `Model:
  --model DIR|HUB_ID     model folder (Optimum ONNX layout) or Hugging Face hub id
                         (default: $${DEFAULT_MODEL_ENV}, else models/tiny-qagen, the toy test model)
  --device D             auto | cpu | cuda | dml | coreml (default auto: GPU if available, else CPU)
  --format F             qagen | lmqg (default: the model's quals.json)
  --variant V            fp32 | int8 | quantized | fp16 weight files (default fp32; int8: the
                         project's int8 graphs, written by \`quals model import --variant int8\`)
  --cache-dir DIR        where hub downloads are kept (default ~/.cache/quals/models)
  --threads N            ONNX Runtime threads
Search and scoring (defaults = the QUALS reference settings, then the model's quals.json):
  --beams N  --groups N  --diversity X  --diversity-count fairseq|hamming
  --beam-search grouped|fairseq|hf   whose beam search: this engine's (default), fairseq's as the
                         QUALS authors ran it, or Hugging Face generate's (reference mode: fairseq)
  --min-length N  --max-length N  --length-penalty X  --max-pairs N
  --mode paper|reference  --answer-tokens N`;

const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

function numberFlag(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new OptionsError(`--${flag} needs a number (got "${raw}").`);
  return v;
}

/** Option overrides from parsed flag values (only the flags that were given). */
export function optionsFromFlags(values: Record<string, unknown>): Partial<QualsOptions> {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(OPTION_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    out[key] = key === 'mode' || key === 'diversityCount' || key === 'beamSearch' ? raw : numberFlag(flag, raw);
  }
  return out as Partial<QualsOptions>;
}

/** Engine configuration from parsed flag values. */
export function engineConfigFromFlags(values: Record<string, unknown>, log?: (line: string) => void): EngineConfig {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const device = str('device') ?? 'auto';
  if (!DEVICES.includes(device as Device)) throw new OptionsError(`--device must be one of ${DEVICES.join(', ')} (got "${device}").`);
  const format = str('format');
  if (format !== undefined && format !== 'qagen' && format !== 'lmqg') throw new OptionsError(`--format must be qagen or lmqg (got "${format}").`);
  const variant = str('variant') ?? 'fp32';
  if (!(MODEL_VARIANTS as readonly string[]).includes(variant)) throw new OptionsError(`--variant must be ${MODEL_VARIANTS.slice(0, -1).join(', ')} or ${MODEL_VARIANTS.at(-1)} (got "${variant}").`);
  const threads = str('threads');
  return {
    model: str('model') ?? process.env[DEFAULT_MODEL_ENV] ?? defaultModelDir(),
    device: device as Device,
    format: format as ModelFormatName | undefined,
    variant: variant as EngineConfig['variant'],
    cacheDir: str('cache-dir'),
    threads: threads ? numberFlag('threads', threads) : undefined,
    options: optionsFromFlags(values),
    log,
  };
}

/** The toy model shipped in the repository, found above the running script (dist/cli.js or src/cli/). */
export function defaultModelDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'models', 'tiny-qagen');
    if (existsSync(join(candidate, 'quals.json'))) return candidate;
    if (dirname(dir) === dir) return join(__dirname, '..', 'models', 'tiny-qagen');
  }
}
