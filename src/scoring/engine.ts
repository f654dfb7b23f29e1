/**
 * createEngine: the engine's entry point. Loads the model once and scores (source, summary) pairs
 * with options merged in one order: defaults -> the model's quals.json -> engine config ->
 * per-request overrides. Results are cached by (model, options, source, summary).
 */
import { createHash } from 'node:crypto';
import type { EngineConfig, QualsEngine, ScoreRequest } from './engine-api';
import { CancelledError, throwIfAborted } from './errors';
import { loadModel } from './model/loader';
import { OPTION_KEYS, type QualsOptions, effectiveBeamSearch, resolveOptions } from './options';
import { scoreQuals } from './quals';
import type { ComputedWith, OptionOrigin, QualsResult } from './result';

const CACHE_ENTRIES = 64;

export async function createEngine(config: EngineConfig, signal?: AbortSignal): Promise<QualsEngine> {
  const model = await loadModel(config, signal);
  let options: QualsOptions;
  try {
    options = resolveOptions(model.modelOptions, config.options);
  } catch (e) {
    await model.dispose();
    throw e;
  }
  const info = { name: config.model, format: model.format.name, device: model.seq2seq.provider };
  const cache = new Map<string, QualsResult>();
  // ONNX Runtime sessions are not re-entrant per call sequence; calls are queued one after another.
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  /** The effective options of a request and where each came from (later layers win, as in resolveOptions). */
  function computedWith(opts: QualsOptions, request: ScoreRequest): ComputedWith {
    const origin: Record<string, OptionOrigin> = {};
    for (const k of OPTION_KEYS) {
      origin[k] =
        request.options?.[k] !== undefined ? 'request' : config.options?.[k] !== undefined ? 'user' : model.modelOptions[k] !== undefined ? 'model' : 'default';
    }
    return { mode: opts.mode, beamSearch: effectiveBeamSearch(opts), options: { ...opts }, origin };
  }

  async function score(request: ScoreRequest): Promise<QualsResult> {
    const opts = request.options ? resolveOptions(options, request.options) : options;
    const withSettings = (r: QualsResult): QualsResult => ({ ...r, computedWith: computedWith(opts, request) });
    const key = createHash('sha256')
      .update(JSON.stringify(opts))
      .update('\u0000')
      .update(request.source)
      .update('\u0000')
      .update(request.summary)
      .digest('hex');
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return withSettings(structuredClone(hit));
    }
    const run = queue.then(async () => {
      if (disposed) throw new CancelledError();
      throwIfAborted(request.signal);
      return scoreQuals(model, config.model, request.source, request.summary, opts, request.signal);
    });
    queue = run.catch(() => undefined);
    const result = await run;
    cache.set(key, result);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return withSettings(structuredClone(result));
  }

  return {
    info,
    options,
    score,
    async dispose() {
      disposed = true;
      await queue;
      await model.dispose();
    },
  };
}
