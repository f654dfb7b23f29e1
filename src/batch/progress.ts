/**
 * Progress for long runs: a redrawn bar with rate and ETA on a terminal, plain periodic lines
 * otherwise (CI logs, `kubectl logs`, SLURM output files), where carriage returns would be noise.
 */

export interface ProgressState {
  /** Lines finished in this run (results and bad lines). */
  done: number;
  /** Lines finished by earlier runs (resume). */
  resumed: number;
  errors: number;
  /** Lines this run expects to finish, when known. */
  total: number | null;
}

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Minimum time between plain lines (non-TTY), in ms. */
  plainEveryMs?: number;
  /** Minimum time between redraws on a TTY, in ms. */
  ttyEveryMs?: number;
  now?: () => number;
  label?: string;
}

export class ProgressReporter {
  private readonly started: number;
  private last = -Infinity;
  private drawn = false;
  private readonly now: () => number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly opts: ProgressOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  /** Call after each finished line; draws only when the interval has passed. */
  update(s: ProgressState): void {
    const t = this.now();
    const every = this.sink.isTTY ? (this.opts.ttyEveryMs ?? 100) : (this.opts.plainEveryMs ?? 10_000);
    if (t - this.last < every) return;
    this.last = t;
    if (this.sink.isTTY) {
      this.sink.write('\r' + this.barLine(s, t) + '\x1b[K');
      this.drawn = true;
    } else {
      this.sink.write(this.plainLine(s, t) + '\n');
    }
  }

  /** Ends the bar line so that later output starts on a fresh line. */
  finish(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  plainLine(s: ProgressState, t = this.now()): string {
    const { rate, eta } = this.rates(s, t);
    const of = s.total !== null ? `/${s.total}` : '';
    const parts = [`${this.opts.label ?? 'quals'}: ${s.done}${of} lines`, `${s.errors} errors`, `${rate.toFixed(2)} lines/s`];
    if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
    if (s.resumed) parts.push(`${s.resumed} done before`);
    return parts.join(', ');
  }

  barLine(s: ProgressState, t = this.now()): string {
    const { rate, eta } = this.rates(s, t);
    const tail = ` ${s.done}${s.total !== null ? `/${s.total}` : ''} ${rate.toFixed(1)}/s${eta !== null ? ` ETA ${formatDuration(eta)}` : ''}${s.errors ? ` ${s.errors} err` : ''}`;
    if (s.total === null || s.total === 0) return tail.trimStart();
    const width = Math.max(10, Math.min(40, (this.sink.columns || 80) - tail.length - 3));
    const filled = Math.min(width, Math.round((s.done / s.total) * width));
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
  }

  private rates(s: ProgressState, t: number): { rate: number; eta: number | null } {
    const secs = Math.max(1e-3, (t - this.started) / 1000);
    const rate = s.done / secs;
    const eta = s.total !== null && rate > 0 ? Math.max(0, (s.total - s.done) / rate) : null;
    return { rate, eta };
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
