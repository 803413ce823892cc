import type { Signal, Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { LiveChannel } from './syncTypes.js';

/** Where sync triggers come from. */
export interface TriggerSources {
  timers: Timers;
  online: Signal<boolean>;
  appActive: Signal<boolean>;
  store: LocalStore;
  live?: LiveChannel | undefined;
  /** Periodic sync in ms; 0 or less: none. */
  syncInterval: number;
  /** Delay from a local write to its sync; negative: writes trigger nothing. */
  writeDebounceMs: number;
  /** The device's pull cursor, to tell a real poke from our own push echoing back. */
  cursor: () => number;
}

/** What the triggers call. */
export interface TriggerHandlers {
  /** Interval, debounced local write, or a poke past our cursor. */
  trigger(): void;
  /** The network or the foreground came back. */
  wake(): void;
  /** `online` or `appActive` changed (either way). */
  signalsChanged(): void;
}

/**
 * Turns platform signals, timers, local writes and server pokes into sync requests for
 * {@link SyncManager}: connectivity regained, app foregrounded, periodic interval, local
 * write (debounced, so a burst of writes is one sync), server poke. It also keeps the live
 * channel open only while the device is online and the app is in front.
 */
export class SyncTriggers {
  readonly #sources: TriggerSources;
  readonly #handlers: TriggerHandlers;
  #cleanups: Array<() => void> = [];
  #intervalTimer: unknown = null;
  #debounceTimer: unknown = null;
  #running = false;

  constructor(sources: TriggerSources, handlers: TriggerHandlers) {
    this.#sources = sources;
    this.#handlers = handlers;
  }

  /** Starts listening. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { online, appActive, store, live, timers } = this.#sources;
    const onSignal = (value: boolean) => {
      this.#handlers.signalsChanged();
      this.#driveLive();
      if (value) this.#handlers.wake();
    };
    this.#cleanups.push(online.subscribe(onSignal), appActive.subscribe(onSignal));
    if (live) {
      // A poke at or below our cursor is our own push echoing back: nothing to pull.
      this.#cleanups.push(
        live.subscribe((event) => {
          // A shared space's poke carries that space's seq, not comparable with ours: always pull.
          if (event.space !== undefined || event.cursor > this.#sources.cursor()) this.#handlers.trigger();
        }),
        () => live.stop(),
      );
    }
    this.#cleanups.push(
      store.subscribe((event) => {
        if (!event.outbox) return;
        if (this.#sources.writeDebounceMs < 0) return;
        if (this.#debounceTimer !== null) timers.clearTimeout(this.#debounceTimer);
        this.#debounceTimer = timers.setTimeout(() => {
          this.#debounceTimer = null;
          this.#handlers.trigger();
        }, this.#sources.writeDebounceMs);
      }),
    );
    this.#scheduleInterval();
    this.#driveLive();
  }

  /** Stops listening, clears timers, closes the live channel. */
  stop(): void {
    this.#running = false;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    for (const timer of [this.#intervalTimer, this.#debounceTimer]) {
      if (timer !== null) this.#sources.timers.clearTimeout(timer);
    }
    this.#intervalTimer = this.#debounceTimer = null;
  }

  #scheduleInterval(): void {
    const { syncInterval, timers } = this.#sources;
    if (syncInterval <= 0 || !this.#running) return;
    this.#intervalTimer = timers.setTimeout(() => {
      this.#handlers.trigger();
      this.#scheduleInterval();
    }, syncInterval);
  }

  /** The live channel runs only while there is a network and the app is in front. */
  #driveLive(): void {
    const { live, online, appActive } = this.#sources;
    if (!live) return;
    if (this.#running && online.get() && appActive.get()) live.start();
    else live.stop();
  }
}
