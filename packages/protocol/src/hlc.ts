/**
 * Hybrid logical clock (Kulkarni et al.): a physical millisecond time plus a logical counter
 * and the node id. It never goes backwards, even when the device clock does, and it orders
 * every event of every node totally: wall time, then counter, then node id.
 *
 * String form (sortable as plain strings):
 *
 *     001732550000000-000000-device-a
 *     └─ wall ms ───┘ └ctr─┘ └─node─┘
 */
export interface Hlc {
  /** Milliseconds since the epoch, as this clock believes them (may run ahead of the device). */
  wallTime: number;
  /** Logical counter for events within one `wallTime`. */
  counter: number;
  /** The node (client id, or the server's id) that stamped the event. */
  node: string;
}

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 6;
const MAX_COUNTER = 10 ** COUNTER_DIGITS - 1;
const MAX_WALL = 10 ** WALL_DIGITS - 1;
const HLC_PATTERN = /^(\d{15})-(\d{6})-([A-Za-z0-9][A-Za-z0-9_-]{0,63})$/;
/** Length of the `wall-counter` part of the string form, which sorts like (wallTime, counter). */
const TIME_PART = WALL_DIGITS + 1 + COUNTER_DIGITS;

/** Default bound on how far ahead of our own clock a remote stamp may be and still be adopted. */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000;

/** Thrown by {@link HybridLogicalClock.receive} when a remote stamp is too far in the future. */
export class ClockDriftError extends Error {
  override readonly name = 'ClockDriftError';
  readonly remote: Hlc;
  readonly driftMs: number;
  readonly maxDriftMs: number;

  constructor(remote: Hlc, driftMs: number, maxDriftMs: number) {
    super(
      `Remote clock of ${remote.node} is ${driftMs} ms ahead (more than the ${maxDriftMs} ms allowed); ` +
        'its stamp was not adopted',
    );
    this.remote = remote;
    this.driftMs = driftMs;
    this.maxDriftMs = maxDriftMs;
  }
}

/** Encodes a clock value in its sortable string form. */
export function encodeHlc(hlc: Hlc): string {
  return `${String(hlc.wallTime).padStart(WALL_DIGITS, '0')}-${String(hlc.counter).padStart(COUNTER_DIGITS, '0')}-${hlc.node}`;
}

/** Decodes the string form; throws a clear error for anything else. */
export function decodeHlc(value: string): Hlc {
  const match = HLC_PATTERN.exec(value);
  if (!match) throw invalidHlc(value);
  return { wallTime: Number(match[1]), counter: Number(match[2]), node: match[3] as string };
}

function invalidHlc(value: string): Error {
  return new Error(`Invalid HLC "${value.slice(0, 100)}": expected WWWWWWWWWWWWWWW-CCCCCC-node`);
}

/** True when `value` is a well-formed HLC string. */
export function isHlc(value: string): boolean {
  return HLC_PATTERN.test(value);
}

/** Total order on encoded stamps: negative when `a` happened before `b`. */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Options of a {@link HybridLogicalClock}. */
export interface HlcOptions {
  /** Physical clock in ms; injectable so tests and the simulator run on virtual time. */
  now?: () => number;
  /** How far ahead of us a received stamp may be and still be adopted. */
  maxDriftMs?: number;
  /** The last stamp this node issued, restored from storage so a restart never reissues one. */
  last?: string;
}

/**
 * A node's clock. `now()` stamps a local event; `receive()` folds in a remote stamp so
 * that everything this node does afterwards sorts after it.
 *
 * @example
 * const clock = new HybridLogicalClock('device-a');
 * const stamp = clock.now(); // '001732550000000-000000-device-a'
 */
export class HybridLogicalClock {
  readonly node: string;
  #physical: () => number;
  #maxDriftMs: number;
  #offsetMs = 0;
  #last: Hlc;
  /**
   * The last stamp's `wall-counter` part followed by "-~", which sorts after every well-formed
   * stamp with that time part (node ids use only characters below "~"); `undefined` when stale.
   */
  #ceiling: string | undefined;

  constructor(node: string, options: HlcOptions = {}) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(node)) {
      throw new Error(`Invalid HLC node id "${node}": use 1-64 letters, digits, "_" or "-"`);
    }
    this.node = node;
    this.#physical = options.now ?? Date.now;
    this.#maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    this.#last = options.last ? decodeHlc(options.last) : { wallTime: 0, counter: 0, node };
    this.#last.node = node;
  }

  /** A correction added to the physical clock, learned from the server's time. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  set offsetMs(value: number) {
    if (!Number.isFinite(value)) throw new Error('Clock offset must be a finite number of ms');
    this.#offsetMs = Math.round(value);
  }

  /** The last stamp issued, encoded. */
  get last(): string {
    return encodeHlc(this.#last);
  }

  /** Physical time as corrected by the learned offset. */
  physicalNow(): number {
    return Math.min(MAX_WALL, Math.max(0, Math.floor(this.#physical() + this.#offsetMs)));
  }

  /**
   * Makes every later stamp sort after `stamp`, without the drift check of `receive()`:
   * for this node's own stamps restored from storage after a restart.
   */
  advanceTo(stamp: string): void {
    const restored = decodeHlc(stamp);
    if (
      restored.wallTime > this.#last.wallTime ||
      (restored.wallTime === this.#last.wallTime && restored.counter > this.#last.counter)
    ) {
      this.#set(restored.wallTime, restored.counter);
    }
  }

  /** Stamps a local event. Strictly greater than every stamp issued or received before. */
  now(): string {
    const physical = this.physicalNow();
    if (physical > this.#last.wallTime) {
      this.#set(physical, 0);
    } else {
      this.#bump(this.#last.wallTime, this.#last.counter);
    }
    return encodeHlc(this.#last);
  }

  /**
   * Folds in a remote stamp. Throws {@link ClockDriftError} (and changes nothing) when the
   * remote is further ahead of our physical time than `maxDriftMs`: a node with a wrong clock
   * must not drag every other clock into its future.
   */
  receive(remote: string): string {
    const r = decodeHlc(remote);
    const physical = this.physicalNow();
    const drift = r.wallTime - physical;
    if (drift > this.#maxDriftMs) throw new ClockDriftError(r, drift, this.#maxDriftMs);
    const wall = Math.max(physical, this.#last.wallTime, r.wallTime);
    if (wall === this.#last.wallTime && wall === r.wallTime) {
      this.#bump(wall, Math.max(this.#last.counter, r.counter));
    } else if (wall === this.#last.wallTime) {
      this.#bump(wall, this.#last.counter);
    } else if (wall === r.wallTime) {
      this.#bump(wall, r.counter);
    } else {
      this.#set(wall, 0);
    }
    return encodeHlc(this.#last);
  }

  /**
   * Folds in a remote stamp without stamping an event: every later {@link now} sorts after it.
   * What {@link receive} does when its result is not needed, cheaper: a stamp not ahead of the
   * last one (the common case while pulling) costs one pattern test and one string comparison.
   * Throws as {@link receive} does: {@link ClockDriftError} for a stamp too far ahead, an
   * `Error` for a malformed one; either way nothing changes.
   */
  observe(remote: string): void {
    if (!HLC_PATTERN.test(remote)) throw invalidHlc(remote);
    this.#ceiling ??= `${encodeHlc(this.#last).slice(0, TIME_PART)}-~`;
    // Same time part or older: the next now() is above the last stamp, hence above this one.
    if (remote < this.#ceiling) return;
    this.receive(remote);
  }

  /**
   * Folds in a remote stamp with the verdict of {@link receive} — a {@link ClockDriftError}
   * (nothing changed) for a stamp further ahead of our physical time than `maxDriftMs`, an
   * `Error` for a malformed one — but without stamping an event: every later {@link now} sorts
   * after it. For a server adopting the stamps it is sent: unlike {@link observe} it checks the
   * drift of every stamp, and a stamp not ahead of the last one costs no decoding or encoding.
   */
  admit(remote: string): void {
    if (!HLC_PATTERN.test(remote)) throw invalidHlc(remote);
    const drift = Number(remote.slice(0, WALL_DIGITS)) - this.physicalNow();
    if (drift > this.#maxDriftMs) throw new ClockDriftError(decodeHlc(remote), drift, this.#maxDriftMs);
    this.#ceiling ??= `${encodeHlc(this.#last).slice(0, TIME_PART)}-~`;
    if (remote < this.#ceiling) return;
    this.receive(remote);
  }

  #set(wallTime: number, counter: number): void {
    this.#last = { wallTime, counter, node: this.node };
    this.#ceiling = undefined;
  }

  #bump(wall: number, counter: number): void {
    // A counter overflow borrows the next millisecond, keeping the encoding fixed-width.
    if (counter >= MAX_COUNTER) this.#set(wall + 1, 0);
    else this.#set(wall, counter + 1);
  }
}
