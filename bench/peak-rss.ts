/**
 * A process's own peak RSS. `process.resourceUsage().maxRSS` (ru_maxrss) is no use in a bench's
 * child process: a spawned child (fork, then exec) inherits its parent's high-water mark, so a child
 * of a bench holding 1.5 GiB reported 1.5 GiB while its own peak was 39 MiB. Linux's VmHWM belongs to
 * this process's own memory and can be reset, so it also gives per-stage peaks.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Peak RSS since the last reset, in bytes (Linux: VmHWM, reset through /proc/self/clear_refs), or null elsewhere. */
export function peakRssSinceReset(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    writeFileSync('/proc/self/clear_refs', '5');
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}
