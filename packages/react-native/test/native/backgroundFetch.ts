/**
 * Stand-in for react-native-background-fetch's native module (RNBackgroundFetch) and for the
 * OS scheduler behind it. The package's JavaScript runs unchanged: `configure`, `scheduleTask`
 * and `finish` reach this object. The OS runs a task by emitting `fetch` ({ taskId, timeout })
 * on the device event emitter, and wakes a terminated app through
 * `AppRegistry.startHeadlessTask`, which reports back to HeadlessJsTaskSupport.
 */
import { AppRegistry, DeviceEventEmitter } from 'react-native';

const STATUS_AVAILABLE = 2;
const finishWaiters = new Map<string, Array<() => void>>();
const headlessWaiters = new Map<number, () => void>();
let nextHeadlessId = 1;

export const nativeBackgroundFetch = {
  configured: [] as Array<Record<string, unknown>>,
  scheduled: [] as Array<Record<string, unknown>>,
  finished: [] as string[],
  stopped: [] as Array<string | null>,
  /** What the OS answers to the next `configure` (an Error is thrown). */
  nextConfigureAnswer: STATUS_AVAILABLE as number | Error,
  configure: async (config: Record<string, unknown>) => {
    nativeBackgroundFetch.configured.push(config);
    const answer = nativeBackgroundFetch.nextConfigureAnswer;
    nativeBackgroundFetch.nextConfigureAnswer = STATUS_AVAILABLE;
    if (answer instanceof Error) throw answer;
    return answer;
  },
  /**
   * iOS's Info.plist `BGTaskSchedulerPermittedIdentifiers`: when set, `scheduleTask` rejects
   * any other id as RNBackgroundFetch.mm does (its code is "scheduleTask", its message the
   * NSError's). Null: every id is permitted (Android).
   */
  permittedTaskIds: null as Set<string> | null,
  scheduleTask: async (config: Record<string, unknown>) => {
    const permitted = nativeBackgroundFetch.permittedTaskIds;
    if (permitted && !permitted.has(String(config.taskId))) {
      throw Object.assign(new Error('The operation couldn’t be completed. (BGTaskSchedulerErrorDomain error 3.)'), {
        code: 'scheduleTask',
      });
    }
    nativeBackgroundFetch.scheduled.push(config);
    return true;
  },
  finish: (taskId: string) => {
    nativeBackgroundFetch.finished.push(taskId);
    for (const resolve of finishWaiters.get(taskId) ?? []) resolve();
    finishWaiters.delete(taskId);
  },
  start: async () => STATUS_AVAILABLE,
  stop: async (taskId: string | null) => {
    nativeBackgroundFetch.stopped.push(taskId);
    return true;
  },
  status: async () => STATUS_AVAILABLE,
  addListener: () => undefined,
  removeListeners: () => undefined,
};

export const nativeHeadlessJsTaskSupport = {
  notifyTaskFinished: (id: number) => headlessWaiters.get(id)?.(),
  notifyTaskRetry: async () => false,
};

/** Forgets what earlier tests configured, scheduled and finished. */
export function resetBackgroundFetch(): void {
  nativeBackgroundFetch.configured.length = 0;
  nativeBackgroundFetch.scheduled.length = 0;
  nativeBackgroundFetch.finished.length = 0;
  nativeBackgroundFetch.stopped.length = 0;
  nativeBackgroundFetch.permittedTaskIds = null;
}

/** Resolves when `BackgroundFetch.finish(taskId)` reaches the native side. */
export function finishOf(taskId: string): Promise<void> {
  return new Promise((resolve) => finishWaiters.set(taskId, [...(finishWaiters.get(taskId) ?? []), resolve]));
}

/** The OS gives the running app background time for a task. */
export function fireFetch(taskId: string): void {
  DeviceEventEmitter.emit('fetch', { taskId, timeout: false });
}

/** The OS says the task's background time is about to run out. */
export function fireTimeout(taskId: string): void {
  DeviceEventEmitter.emit('fetch', { taskId, timeout: true });
}

/** The OS wakes a terminated app headless; resolves when the registered task settles. */
export function startHeadlessTask(event: { taskId: string; timeout: boolean }): Promise<void> {
  const id = nextHeadlessId++;
  const done = new Promise<void>((resolve) => headlessWaiters.set(id, resolve));
  AppRegistry.startHeadlessTask(id, 'BackgroundFetch', event);
  return done;
}
