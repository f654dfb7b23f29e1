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

/**
 * A bench's entry point: `--rss ...` runs its memory child (a fresh process measured from outside),
 * anything else the bench itself; a failure sets the exit code.
 */
export function benchEntry(main: () => Promise<void>, rssChild: (args: string[]) => Promise<void>): void {
  const run = process.argv[2] === '--rss' ? rssChild(process.argv.slice(3)) : main();
  run.catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
