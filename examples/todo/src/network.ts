/**
 * The demo's network: the browser's own online state AND a switch to go offline by hand.
 * The engine hears one `online` signal; the guarded fetch refuses every request while the
 * switch is off, so "offline" really means no traffic, not just "do not start a sync".
 */
import { Signal } from '@ferry/client';

/** Online state fed by `navigator.onLine` and the manual switch. */
export class NetworkSwitch {
  /** What the engine listens to: browser online and not switched off. */
  readonly online: Signal<boolean>;
  /** The manual switch (true = forced offline). */
  readonly forcedOffline: Signal<boolean>;
  readonly #browserOnline: Signal<boolean>;
  readonly #cleanups: Array<() => void> = [];

  constructor(forcedOffline = false) {
    this.#browserOnline = new Signal(navigator.onLine);
    this.forcedOffline = new Signal(forcedOffline);
    this.online = new Signal(this.#compute());
    const update = () => this.online.set(this.#compute());
    const onOnline = () => this.#browserOnline.set(true);
    const onOffline = () => this.#browserOnline.set(false);
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    this.#cleanups.push(
      () => window.removeEventListener('online', onOnline),
      () => window.removeEventListener('offline', onOffline),
      this.#browserOnline.subscribe(update),
      this.forcedOffline.subscribe(update),
    );
  }

  #compute(): boolean {
    return this.#browserOnline.get() && !this.forcedOffline.get();
  }

  /**
   * A fetch that fails like a dead network while the switch is off, so a sync that was
   * already running when the user flipped it cannot reach the server either.
   */
  readonly fetch: typeof fetch = (input, init) => {
    if (this.forcedOffline.get()) return Promise.reject(new TypeError('Failed to fetch (offline by hand)'));
    return globalThis.fetch(input, init);
  };

  /** Stops listening to the browser. */
  dispose(): void {
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}
