/**
 * The pure half of "QUALS: Choose Model..." (no `vscode`, unit-tested): the picker's rows, what
 * each choice does, where imports go, and how a chosen folder is recognised. The UI half is
 * ./model-picker.ts.
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { formatLicense, formatSize, RECOMMENDED_MODELS, type RecommendedModel } from '../models/recommended';
import type { PrepareModelParams } from '../protocol';

/**
 * Test-only: JSON array of extra recommended models (same fields as RECOMMENDED_MODELS), appended
 * to the picker's list. The integration harness uses it for a model served by its loopback hub.
 */
export const EXTRA_MODELS_ENV = 'QUALS_TEST_EXTRA_MODELS';

export type PickerChoice = { kind: 'hub'; model: RecommendedModel } | { kind: 'folder' } | { kind: 'checkpoint' };

export interface PickerItem {
  label: string;
  description?: string;
  detail?: string;
  /** A group heading (not selectable). */
  separator?: boolean;
  choice?: PickerChoice;
  /** The row of the model `quals.model` names now. */
  current?: boolean;
}

export const FOLDER_LABEL = '$(folder-opened) Use a local folder...';
export const CHECKPOINT_LABEL = '$(package) Import a Hugging Face checkpoint folder...';

export function hubLabel(m: RecommendedModel): string {
  return `$(cloud-download) ${m.id}`;
}

/** The picker's rows: the recommended models (the current one marked), then the two folder choices. */
export function pickerItems(models: readonly RecommendedModel[], currentModel: string): PickerItem[] {
  const current = currentModel.trim();
  const hub = models.map((m): PickerItem => {
    const isCurrent = m.id === current;
    return {
      label: hubLabel(m),
      description: [m.name, formatSize(m.sizeMB), formatLicense(m), ...(isCurrent ? ['current'] : [])].join(' · '),
      detail: `${m.goodFor} Downloaded and converted once, then used offline.${m.licenseChecked ? '' : ' Read the model card for its license.'}`,
      choice: { kind: 'hub', model: m },
      ...(isCurrent ? { current: true } : {}),
    };
  });
  return [
    { label: 'Recommended models (Hugging Face hub)', separator: true },
    ...hub,
    { label: 'Your own model', separator: true },
    {
      label: FOLDER_LABEL,
      detail: 'A folder in the ONNX layout: onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, tokenizer.json, config.json, quals.json.',
      choice: { kind: 'folder' },
    },
    {
      label: CHECKPOINT_LABEL,
      detail: 'A folder as save_pretrained writes it (config.json + model.safetensors or pytorch_model.bin, tokenizer files); converted to ONNX once.',
      choice: { kind: 'checkpoint' },
    },
  ];
}

/** The request to send and the `quals.model` value to save once it succeeded. */
export interface PrepareAction {
  kind: 'prepare';
  /** Progress notification title. */
  title: string;
  request: PrepareModelParams;
  /** The `quals.model` value (user settings) when the preparation succeeded. */
  setting: string;
}

export type PickerAction = PrepareAction | { kind: 'pick-folder' } | { kind: 'pick-checkpoint' };

/** What a picked row does; `modelsDir` is the extension's model storage (`<globalStorage>/models`). */
export function actionFor(choice: PickerChoice, modelsDir: string): PickerAction {
  switch (choice.kind) {
    case 'hub':
      return {
        kind: 'prepare',
        title: `QUALS: getting ${choice.model.id}`,
        request: { kind: 'hub', model: choice.model.id, cacheDir: modelsDir, ...(choice.model.format ? { format: choice.model.format } : {}) },
        setting: choice.model.id,
      };
    case 'folder':
      return { kind: 'pick-folder' };
    case 'checkpoint':
      return { kind: 'pick-checkpoint' };
  }
}

/** Importing local checkpoint `srcDir`: into `<models>/imported/<name>-<hash of the path>`, saved as that folder. */
export function checkpointAction(srcDir: string, modelsDir: string): PrepareAction {
  const outDir = importDirFor(modelsDir, srcDir);
  return {
    kind: 'prepare',
    title: `QUALS: importing ${basename(srcDir)}`,
    request: { kind: 'checkpoint', model: srcDir, cacheDir: modelsDir, outDir },
    setting: outDir,
  };
}

/** One folder per source path: re-importing the same checkpoint replaces its earlier import. */
export function importDirFor(modelsDir: string, srcDir: string): string {
  const name = basename(srcDir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 60) || 'checkpoint';
  const hash = createHash('sha256').update(srcDir).digest('hex').slice(0, 10);
  return join(modelsDir, 'imported', `${name}-${hash}`);
}

export type FolderKind = 'onnx' | 'checkpoint' | 'unknown';

/**
 * What a folder holds, from its file names (top level, plus `onnx/...` entries): the ONNX layout
 * QUALS loads as is, or a Hugging Face checkpoint to import.
 */
export function classifyFolder(files: readonly string[]): FolderKind {
  const has = (f: string) => files.includes(f);
  if (has('onnx/encoder_model.onnx') || has('onnx/encoder_model_quantized.onnx') || has('onnx/encoder_model_fp16.onnx')) return 'onnx';
  const weights = files.some((f) => /^(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)$/.test(f) || /^(model|pytorch_model)\.(safetensors|bin)\.index\.json$/.test(f));
  if (has('config.json') && weights) return 'checkpoint';
  return 'unknown';
}

function isModel(v: unknown): v is RecommendedModel {
  const m = v as Partial<RecommendedModel> | null;
  return (
    typeof m === 'object' && m !== null && typeof m.id === 'string' && /^[^/\s]+\/[^/\s]+$/.test(m.id) &&
    (m.format === undefined || m.format === 'qagen' || m.format === 'lmqg')
  );
}

/** Parses {@link EXTRA_MODELS_ENV}; malformed input or entries are dropped (with a reason). */
export function parseExtraModels(raw: string | undefined, warn: (line: string) => void = () => undefined): RecommendedModel[] {
  if (!raw?.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    warn(`${EXTRA_MODELS_ENV} is not JSON: ${String(e)}`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    warn(`${EXTRA_MODELS_ENV} must be a JSON array`);
    return [];
  }
  return parsed.filter(isModel).map((m) => ({
    id: m.id,
    name: typeof m.name === 'string' ? m.name : m.id,
    sizeMB: typeof m.sizeMB === 'number' ? m.sizeMB : null,
    license: typeof m.license === 'string' ? m.license : 'unknown',
    licenseChecked: m.licenseChecked === true,
    ...(m.format ? { format: m.format } : {}),
    goodFor: typeof m.goodFor === 'string' ? m.goodFor : 'Test model.',
  }));
}

/** The picker's list: the recommended models, then extras whose id is not already listed. */
export function pickerModels(extras: readonly RecommendedModel[] = []): RecommendedModel[] {
  const ids = new Set(RECOMMENDED_MODELS.map((m) => m.id));
  return [...RECOMMENDED_MODELS, ...extras.filter((m) => !ids.has(m.id) && ids.add(m.id))];
}
