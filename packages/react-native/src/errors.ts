/** Errors of @ferry/react-native's platform bindings (the engine's own are `SyncError`s). */

/**
 * The OS refused the one-off background task Ferry schedules when the app goes to the
 * background. On iOS that almost always means the task id is missing from Info.plist's
 * `BGTaskSchedulerPermittedIdentifiers` (or `processing` from `UIBackgroundModes`). The
 * refusal of react-native-background-fetch's `scheduleTask` is the `cause`.
 */
export class BackgroundTaskError extends Error {
  override name = 'BackgroundTaskError';
  readonly code = 'BACKGROUND_TASK_REFUSED';
  /** The id of the task the OS refused. */
  readonly taskId: string;

  constructor(taskId: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `The OS refused background task "${taskId}" (${reason}). On iOS, list "${taskId}" under ` +
        'BGTaskSchedulerPermittedIdentifiers in Info.plist and "processing" under UIBackgroundModes, ' +
        'or pass the `taskId` option of BackgroundSyncManager an identifier you did list.',
      { cause },
    );
    this.taskId = taskId;
  }
}
