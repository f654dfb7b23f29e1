/**
 * Progress of a model download and conversion on stderr: on a terminal, one line redrawn in
 * place (like `quals batch`'s bar, src/batch/progress.ts); elsewhere (CI logs, files) one plain
 * line when a file or phase starts, since carriage returns would be noise there.
 */
import type { ProgressSink } from '../batch/progress';
import type { ImportProgress } from '../models/import';
import type { DownloadProgress } from '../scoring/engine-api';

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(bytes >= 100 * MB ? 0 : 1);
/** `received/total` in the unit of the total: kB for the small JSON files, MB for weights. */
const amount = (done: number, total: number | null) =>
  total !== null && total < MB ? `${Math.ceil(done / 1024)}/${Math.ceil(total / 1024)} kB` : `${mb(done)}${total !== null ? `/${mb(total)}` : ''} MB`;

const PHASES: Record<ImportProgress['phase'], string> = {
  checksum: 'Checking the weights',
  encoder: 'Writing onnx/encoder_model.onnx',
  decoder: 'Writing onnx/decoder_model_merged.onnx',
};
const INT8_PHASES: Record<ImportProgress['phase'], string> = { ...PHASES, encoder: 'Writing onnx/encoder_model_int8.onnx', decoder: 'Writing the int8 decoder graphs (onnx/decoder_step_quals_int8.onnx, onnx/cross_kv_quals_int8.onnx)' };

export class ModelProgress {
  private last = -Infinity;
  private drawn = false;
  private step = '';

  constructor(
    private readonly sink: ProgressSink,
    private readonly now: () => number = Date.now,
    private readonly everyMs = 100,
  ) {}

  download(p: DownloadProgress): void {
    const head = `Downloading ${p.file}`;
    const tail = amount(p.receivedBytes, p.totalBytes);
    this.show(head, p.totalBytes ? p.receivedBytes / p.totalBytes : null, tail, p.totalBytes !== null && p.receivedBytes >= p.totalBytes);
  }

  convert(p: ImportProgress): void {
    const tail = p.phase === 'checksum' ? amount(p.done, p.total) : `${p.done}/${p.total} tensors`;
    this.show((p.variant === 'int8' ? INT8_PHASES : PHASES)[p.phase], p.total > 0 ? p.done / p.total : null, tail, false);
  }

  /** Prints a whole line (a log message) without breaking the redrawn one. */
  line(text: string): void {
    this.finish();
    this.sink.write(`${text}\n`);
  }

  /** Ends the redrawn line so that later output starts on a fresh line. */
  finish(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private show(head: string, fraction: number | null, tail: string, force: boolean): void {
    if (!this.sink.isTTY) {
      if (head !== this.step) this.sink.write(`${head}\n`);
      this.step = head;
      return;
    }
    const t = this.now();
    if (!force && head === this.step && t - this.last < this.everyMs) return;
    this.step = head;
    this.last = t;
    const columns = this.sink.columns || 80;
    let bar = '';
    if (fraction !== null) {
      const width = Math.max(10, Math.min(30, columns - head.length - tail.length - 6));
      const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
      bar = ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    }
    const text = `${head}${bar} ${tail}`;
    this.sink.write(`\r${text.length > columns - 1 ? text.slice(0, columns - 1) : text}\x1b[K`);
    this.drawn = true;
  }
}
