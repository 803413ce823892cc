/**
 * The engine's injectable timers, run by hand: the test decides when "later" is (for
 * instance when `complete` turns back into `idle`), with no real clock involved.
 */
import type { Timers } from '@ferry/client';

export interface ManualTimers extends Timers {
  /** Runs every timer due now (all of them: they are ordered, not timed). */
  runAll(): void;
}

export function manualTimers(): ManualTimers {
  const pending = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout(fn) {
      const handle = next++;
      pending.set(handle, fn);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    runAll() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, fn] of due) fn();
    },
  };
}
