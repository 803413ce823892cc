/**
 * Which device this tab is. Every tab is its own device with its own local database, so two
 * tabs of one browser sync with each other like two phones. The id lives in sessionStorage
 * (it survives a reload, and pending changes with it); a Web Lock makes sure a duplicated tab,
 * which copies sessionStorage, does not open the same database twice.
 */

const WAIT_FOR_RELOADED_TAB_MS = 1500;

/** A device id this tab holds until `release()` (or until the tab goes away). */
export interface DeviceClaim {
  deviceId: string;
  release(): void;
}

function newDeviceId(): string {
  return crypto.randomUUID().replace(/-/g, '').slice(0, 12);
}

function lock(name: string, wait: boolean): Promise<(() => void) | null> {
  if (!navigator.locks) return Promise.resolve(() => undefined);
  return new Promise((resolve, reject) => {
    const options: LockOptions = wait
      ? { signal: AbortSignal.timeout(WAIT_FOR_RELOADED_TAB_MS) }
      : { ifAvailable: true };
    navigator.locks
      .request(name, options, (held) => {
        if (!held) {
          resolve(null);
          return;
        }
        // The lock is held until this promise settles, i.e. until release() or the tab closes.
        return new Promise<void>((release) => resolve(release));
      })
      .catch((error: unknown) => {
        if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
          resolve(null);
        } else reject(error);
      });
  });
}

/**
 * Claims this tab's device id for `userId`: the one it had before the reload, or a new one
 * when it had none or another tab holds it.
 */
export async function claimDevice(userId: string): Promise<DeviceClaim> {
  const key = `ferry-todo:device:${userId}`;
  const previous = sessionStorage.getItem(key);
  if (previous) {
    // Just after a reload the old page may still hold the lock for a moment.
    const release =
      (await lock(`ferry-todo:${userId}:${previous}`, false)) ?? (await lock(`ferry-todo:${userId}:${previous}`, true));
    if (release) return { deviceId: previous, release };
  }
  for (;;) {
    const deviceId = newDeviceId();
    const release = await lock(`ferry-todo:${userId}:${deviceId}`, false);
    if (release) {
      sessionStorage.setItem(key, deviceId);
      return { deviceId, release };
    }
  }
}
