import type { DeviceReport } from '@ferry/protocol';

/** Where one device stands in one space (`space: null` is the user's private space). */
export interface DeviceCursor {
  space: string | null;
  cursor: number;
  /** When it last pulled this space (ms). */
  pulledAt: number;
}

/** What this process knows of one device. */
export interface DeviceState {
  user: string;
  deviceId: string;
  report: DeviceReport | null;
  firstSeenAt: number;
  lastSeenAt: number;
  lastPushAt: number | null;
  lastPullAt: number | null;
  cursors: DeviceCursor[];
}

/** Devices kept at most; the least recently seen goes first. */
const MAX_DEVICES = 10_000;

/**
 * Per process, in memory: every device that sent a sync request, with its last report and the
 * cursors its pulls left it at. A device without a report or a client id is not tracked: there
 * is nothing to tell it apart by.
 */
export class DeviceRegistry {
  // Map order is insertion order; a device is re-inserted when seen, so the first is the stalest.
  readonly #devices = new Map<string, DeviceState>();

  /** Records a request of `deviceId` (of `user`) at `at`. */
  seen(user: string, deviceId: string, at: number, report: DeviceReport | null): DeviceState {
    const key = `${user}\u0000${deviceId}`;
    const existing = this.#devices.get(key);
    const state: DeviceState = existing ?? {
      user,
      deviceId,
      report: null,
      firstSeenAt: at,
      lastSeenAt: at,
      lastPushAt: null,
      lastPullAt: null,
      cursors: [],
    };
    state.lastSeenAt = at;
    if (report) state.report = report;
    this.#devices.delete(key);
    this.#devices.set(key, state);
    if (this.#devices.size > MAX_DEVICES) {
      const stalest = this.#devices.keys().next().value;
      if (stalest !== undefined) this.#devices.delete(stalest);
    }
    return state;
  }

  /** Notes where a pull left the device in `space`. */
  pulled(state: DeviceState, space: string | null, cursor: number, at: number): void {
    state.lastPullAt = at;
    const existing = state.cursors.find((entry) => entry.space === space);
    if (existing) {
      existing.cursor = cursor;
      existing.pulledAt = at;
    } else if (state.cursors.length < 100) {
      state.cursors.push({ space, cursor, pulledAt: at });
    }
  }

  /** Every tracked device, most recently seen first. */
  list(): DeviceState[] {
    return [...this.#devices.values()].reverse();
  }
}
