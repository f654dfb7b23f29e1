/**
 * Owns the scoring engine inside the server: creates it lazily for the configured model, reuses
 * it while the model settings stay the same, and remembers a failed load so that one broken
 * model setting yields ONE model-status error (one notification), not one per keystroke.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ModelStatusParams } from '../protocol';
import type { EngineConfig, QualsEngine } from '../scoring/engine-api';
import { ModelError } from '../scoring/errors';
import { isHubId } from '../models/model-files';
import type { QualsSettings } from './settings';

export type CreateEngine = (config: EngineConfig) => Promise<QualsEngine>;

/** Raised when `quals.model` is empty: nothing to load yet. */
export class ModelNotConfiguredError extends Error {
  override name = 'ModelNotConfiguredError';
  readonly code = 'not-configured';
  constructor() {
    super('QUALS needs a question-generation model to check summaries: run "QUALS: Choose Model..." or set "quals.model" to a model folder or a Hugging Face id.');
  }
}

/**
 * A model setting as the engine wants it: `~` expanded, relative folders resolved against the
 * workspace folders (first one that has it); anything else (`org/name`) is a hub id.
 */
export function resolveModelSetting(model: string, workspaceFolders: readonly string[]): string {
  if (model.startsWith('~/')) return join(homedir(), model.slice(2));
  if (isAbsolute(model)) return model;
  for (const folder of workspaceFolders) {
    const candidate = resolve(folder, model);
    if (existsSync(candidate)) return candidate;
  }
  return model;
}

interface Loaded {
  key: string;
  engine: Promise<QualsEngine>;
}

export class EngineHost {
  private loaded: Loaded | undefined;
  private current: ModelStatusParams = { state: 'error', model: '', code: 'not-configured' };

  constructor(
    private readonly deps: {
      create: CreateEngine;
      log: (line: string) => void;
      onStatus: (status: ModelStatusParams) => void;
      workspaceFolders: () => readonly string[];
      cacheDir?: string;
    },
  ) {}

  get status(): ModelStatusParams {
    return this.current;
  }

  /** The engine for the settings' model; throws ModelError / ModelNotConfiguredError. */
  async get(settings: QualsSettings): Promise<QualsEngine> {
    const model = settings.model ? resolveModelSetting(settings.model, this.deps.workspaceFolders()) : '';
    const key = JSON.stringify([model, settings.modelFormat, settings.modelVariant, settings.device]);
    if (this.loaded?.key !== key) {
      void this.dispose();
      this.loaded = { key, engine: this.load(settings, model) };
    }
    return this.loaded.engine;
  }

  private async load(settings: QualsSettings, model: string): Promise<QualsEngine> {
    if (!model) {
      this.setStatus({ state: 'error', model: '', code: 'not-configured', message: new ModelNotConfiguredError().message });
      throw new ModelNotConfiguredError();
    }
    this.setStatus({ state: 'loading', model: settings.model });
    try {
      const engine = await this.deps.create({
        model,
        device: settings.device,
        variant: settings.modelVariant,
        ...(settings.modelFormat !== 'auto' ? { format: settings.modelFormat } : {}),
        ...(this.deps.cacheDir ? { cacheDir: this.deps.cacheDir } : {}),
        log: this.deps.log,
        onDownloadProgress: (p) =>
          this.setStatus({
            state: 'downloading',
            model: settings.model,
            message: `Downloading ${p.file}`,
            ...(p.totalBytes ? { progress: p.receivedBytes / p.totalBytes } : {}),
          }),
      });
      this.setStatus({ state: 'ready', model: settings.model, device: engine.info.device, format: engine.info.format, variant: settings.modelVariant });
      this.deps.log(`model ready: ${engine.info.name} (${engine.info.format}, ${settings.modelVariant}, ${engine.info.device})`);
      return engine;
    } catch (e) {
      const code = e instanceof ModelError ? e.code : 'runtime';
      let message = e instanceof Error ? e.message : String(e);
      // A file of a hub download that cannot be parsed may be a damaged cached copy: say how to clear it.
      if (code === 'invalid-file' && isHubId(settings.model)) {
        message += ` The cached download may be damaged: \`quals model verify ${settings.model}${this.deps.cacheDir ? ` --cache-dir ${JSON.stringify(this.deps.cacheDir)}` : ''} --remove-damaged\` checks it and deletes bad files, so the next check downloads them again.`;
      }
      this.deps.log(`model failed to load (${code}): ${message}`);
      this.setStatus({ state: 'error', model: settings.model, code, message });
      throw e;
    }
  }

  private setStatus(status: ModelStatusParams): void {
    this.current = status;
    this.deps.onStatus(status);
  }

  /** Forgets the engine (and a remembered failure) so the next check loads again. */
  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (!loaded) return;
    try {
      await (await loaded.engine).dispose();
    } catch {
      // A failed load has nothing to release.
    }
  }
}
