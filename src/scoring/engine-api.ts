/**
 * The engine's public contract, shared by the CLI, the language server, batch tools and benchmarks.
 * Implemented by ./engine.ts (createEngine).
 */
import type { QualsOptions } from './options';
import type { ModelInfo, QualsResult } from './result';

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
export type ModelFormatName = 'qagen' | 'lmqg';
/**
 * Which weight files to load: `onnx/*.onnx`, `onnx/*_int8.onnx` (the project's int8 graphs, written
 * by `quals model import --variant int8`), `onnx/*_quantized.onnx` or `onnx/*_fp16.onnx` (exports).
 */
export type ModelVariant = 'fp32' | 'int8' | 'quantized' | 'fp16';

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number | null;
}

export interface EngineConfig {
  /** A local folder in the Optimum layout, or a Hugging Face hub id such as `org/name`. */
  model: string;
  /** Overrides the format named by the model's quals.json. */
  format?: ModelFormatName;
  device?: Device;
  variant?: ModelVariant;
  /** Where hub downloads are cached (default: ~/.cache/quals/models). */
  cacheDir?: string;
  /** Hub base URL (default https://huggingface.co); tests point it at a loopback server. */
  hubUrl?: string;
  /** Hub revision (default `main`). */
  revision?: string;
  /** Option overrides on top of defaults and the model's quals.json. */
  options?: Partial<QualsOptions>;
  /** ONNX Runtime intra-op threads (default: ORT's choice). */
  threads?: number;
  onDownloadProgress?: (p: DownloadProgress) => void;
  /** Diagnostic log lines (provider fallback, download, truncation). */
  log?: (line: string) => void;
}

export interface ScoreRequest {
  source: string;
  summary: string;
  /** Per-call option overrides (e.g. from VS Code settings). */
  options?: Partial<QualsOptions>;
  signal?: AbortSignal;
}

export interface QualsEngine {
  readonly info: ModelInfo;
  readonly options: QualsOptions;
  /** Scores one (source, summary) pair. Throws InputError for unusable texts, CancelledError when aborted. */
  score(request: ScoreRequest): Promise<QualsResult>;
  /** Releases the ONNX Runtime sessions. */
  dispose(): Promise<void>;
}
