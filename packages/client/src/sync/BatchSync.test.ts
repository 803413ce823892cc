import { type Change, encodeHlc } from '@ferry/protocol';
import { describe, expect, it, vi } from 'vitest';
import { HttpError, NetworkError } from '../errors.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import type { Sleep } from '../retry/sleep.js';
import type { BatchSyncResponse } from '../transport/RemoteAPI.js';
import { BatchSync } from './BatchSync.js';
import type { BatchProgress } from './batchSyncTypes.js';

function makeChange(i: number): Change {
  const timestamp = 1_900_000_000_000 + i;
  return {
    id: `change-${i}`,
    entityType: 'todos',
    entityId: `todo-${i}`,
    operation: 'CREATE',
    data: { title: `Todo ${i}` },
    timestamp,
    hlc: encodeHlc({ wallTime: timestamp, counter: 0, node: 'test-client' }),
    version: 1,
    vector: { 'test-client': 1 },
    clientId: 'test-client',
  };
}

const makeChanges = (count: number) => Array.from({ length: count }, (_, i) => makeChange(i));

const OK: BatchSyncResponse = { success: true, failed: [] };

/** Per-change failure as the server reports it. */
function failure(changeId: string, code: string, retryable: boolean) {
  return { changeId, error: { code, message: `${code} for ${changeId}`, retryable } };
}

/**
 * A fake transport: `respond` decides each call's outcome from the call number (1-based) and the
 * ids it carries; every call's ids are recorded.
 */
function fakeApi(respond: (ids: string[], call: number) => BatchSyncResponse | Promise<BatchSyncResponse>) {
  const calls: string[][] = [];
  return {
    calls,
    api: {
      batchSync: async (batch: Change[]) => {
        const ids = batch.map((change) => change.id);
        calls.push(ids);
        return respond(ids, calls.length);
      },
    },
  };
}

function recordingSleep(): { delays: number[]; sleep: Sleep } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

/** An error handler without jitter, so backoff delays are exact. */
const exactHandler = () => new SyncErrorHandler({ baseDelay: 100, random: () => 0 });

function recordingStore() {
  const marked: string[] = [];
  return {
    marked,
    store: {
      markAsSynced: async (changeId: string) => {
        marked.push(changeId);
      },
    },
  };
}

describe('Batch Sync (the specification test)', () => {
  const mockApi = { batchSync: vi.fn<(changes: Change[]) => Promise<BatchSyncResponse>>() };
  const mockLocalStore = { get: vi.fn(), set: vi.fn() };

  it('should create correct number of batches', async () => {
    const batchSync = new BatchSync(mockApi, mockLocalStore, { batchSize: 2, parallelBatches: 2 });
    const changes = makeChanges(5);
    mockApi.batchSync.mockResolvedValue({ success: true, failed: [] });

    const progressUpdates: BatchProgress[] = [];
    await batchSync.syncInBatches(changes, (progress) => {
      progressUpdates.push(progress);
    });

    // Should have 3 batches for 5 items with batch size 2
    expect(mockApi.batchSync).toHaveBeenCalledTimes(3);
    expect(mockApi.batchSync.mock.calls.map(([batch]) => batch.map((change) => change.id))).toEqual([
      ['change-0', 'change-1'],
      ['change-2', 'change-3'],
      ['change-4'],
    ]);
  });
});

describe('BatchSync', () => {
  it('reports progress after every batch', async () => {
    const { api } = fakeApi(() => OK);
    const progress: BatchProgress[] = [];
    const result = await new BatchSync(api, undefined, { batchSize: 2, parallelBatches: 1 }).syncInBatches(
      makeChanges(5),
      (p) => progress.push(p),
    );
    expect(progress).toEqual([
      { totalBatches: 3, processedBatches: 1, totalChanges: 5, processedChanges: 2, percentage: 40 },
      { totalBatches: 3, processedBatches: 2, totalChanges: 5, processedChanges: 4, percentage: 80 },
      { totalBatches: 3, processedBatches: 3, totalChanges: 5, processedChanges: 5, percentage: 100 },
    ]);
    expect(result).toMatchObject({
      totalBatches: 3,
      successfulBatches: 3,
      failedBatches: 0,
      totalProcessed: 5,
      totalFailed: 0,
      succeeded: ['change-0', 'change-1', 'change-2', 'change-3', 'change-4'],
      failedChanges: [],
    });
  });

  it('reports 100 % for an empty list, without calling the server', async () => {
    const { api, calls } = fakeApi(() => OK);
    const progress: BatchProgress[] = [];
    const result = await new BatchSync(api).syncInBatches([], (p) => progress.push(p));
    expect(calls).toEqual([]);
    expect(progress).toEqual([
      { totalBatches: 0, processedBatches: 0, totalChanges: 0, processedChanges: 0, percentage: 100 },
    ]);
    expect(result).toMatchObject({ totalBatches: 0, totalProcessed: 0, totalFailed: 0, succeeded: [] });
  });

  it('retries ONLY the changes of a batch that failed, re-batched', async () => {
    const { api, calls } = fakeApi((_ids, call) =>
      call === 1
        ? {
            success: false,
            failed: [failure('change-1', 'UNAVAILABLE', true), failure('change-3', 'INTERNAL', true)],
          }
        : OK,
    );
    const { delays, sleep } = recordingSleep();
    const { marked, store } = recordingStore();
    const progress: BatchProgress[] = [];
    const batchSync = new BatchSync(api, store, { batchSize: 10, errorHandler: exactHandler(), sleep });

    const result = await batchSync.syncInBatches(makeChanges(5), (p) => progress.push(p));

    expect(calls).toEqual([
      ['change-0', 'change-1', 'change-2', 'change-3', 'change-4'],
      ['change-1', 'change-3'],
    ]);
    expect(delays).toEqual([100]);
    expect(marked).toEqual(['change-0', 'change-2', 'change-4', 'change-1', 'change-3']);
    expect(progress).toEqual([
      { totalBatches: 1, processedBatches: 1, totalChanges: 5, processedChanges: 3, percentage: 60 },
      { totalBatches: 2, processedBatches: 2, totalChanges: 5, processedChanges: 5, percentage: 100 },
    ]);
    expect(result).toMatchObject({
      totalBatches: 2,
      successfulBatches: 1,
      failedBatches: 1,
      totalProcessed: 5,
      totalFailed: 0,
      failedChanges: [],
    });
    expect(result.results.map((r) => [r.batchIndex, r.round, r.changeIds])).toEqual([
      [0, 0, ['change-0', 'change-1', 'change-2', 'change-3', 'change-4']],
      [1, 1, ['change-1', 'change-3']],
    ]);
  });

  it('does not retry a non-retryable failure, and reports it', async () => {
    const { api, calls } = fakeApi((_ids, call) =>
      call === 1
        ? {
            success: false,
            failed: [failure('change-0', 'UNKNOWN_ENTITY_TYPE', false), failure('change-2', 'UNAVAILABLE', true)],
          }
        : OK,
    );
    const { marked, store } = recordingStore();
    const batchSync = new BatchSync(api, store, { errorHandler: exactHandler(), sleep: recordingSleep().sleep });

    const result = await batchSync.syncInBatches(makeChanges(3));

    expect(calls).toEqual([['change-0', 'change-1', 'change-2'], ['change-2']]);
    expect(marked).toEqual(['change-1', 'change-2']);
    expect(result.succeeded).toEqual(['change-1', 'change-2']);
    expect(result.totalFailed).toBe(1);
    expect(result.failedChanges).toHaveLength(1);
    expect(result.failedChanges[0]).toMatchObject({
      changeId: 'change-0',
      error: {
        code: 'VALIDATION_ERROR',
        serverCode: 'UNKNOWN_ENTITY_TYPE',
        retryable: false,
        changeId: 'change-0',
        message: 'UNKNOWN_ENTITY_TYPE for change-0',
      },
    });
  });

  it('fails every change of a batch whose call throws, and retries them with backoff', async () => {
    const { api, calls } = fakeApi((ids, call) => {
      if (call <= 3 && ids.includes('change-2')) throw new NetworkError('connection reset');
      return OK;
    });
    const { delays, sleep } = recordingSleep();
    const { marked, store } = recordingStore();
    const batchSync = new BatchSync(api, store, {
      batchSize: 2,
      parallelBatches: 1,
      errorHandler: exactHandler(),
      sleep,
    });

    const result = await batchSync.syncInBatches(makeChanges(4));

    expect(calls).toEqual([
      ['change-0', 'change-1'],
      ['change-2', 'change-3'],
      ['change-2', 'change-3'],
      ['change-2', 'change-3'],
    ]);
    expect(delays).toEqual([100, 200]);
    expect(marked).toEqual(['change-0', 'change-1', 'change-2', 'change-3']);
    expect(result).toMatchObject({ totalProcessed: 4, totalFailed: 0, totalBatches: 4, failedBatches: 2 });
  });

  it('gives up after maxRetries rounds and reports the categorized error', async () => {
    const thrown = new Error('Network request failed');
    const { api, calls } = fakeApi(() => {
      throw thrown;
    });
    const { delays, sleep } = recordingSleep();
    const { marked, store } = recordingStore();
    const batchSync = new BatchSync(api, store, { maxRetries: 3, errorHandler: exactHandler(), sleep });

    const result = await batchSync.syncInBatches(makeChanges(2));

    expect(calls).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(marked).toEqual([]);
    expect(result.succeeded).toEqual([]);
    expect(result.failedChanges.map((f) => [f.changeId, f.error.code, f.error.retryable])).toEqual([
      ['change-0', 'NETWORK_ERROR', true],
      ['change-1', 'NETWORK_ERROR', true],
    ]);
    expect(result.failedChanges[0]?.error.originalError).toBe(thrown);
  });

  it('does not retry a batch that threw a non-retryable error', async () => {
    const { api, calls } = fakeApi(() => {
      throw new HttpError(401, 'token expired');
    });
    const { delays, sleep } = recordingSleep();
    const result = await new BatchSync(api, undefined, { sleep }).syncInBatches(makeChanges(3));
    expect(calls).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(result.failedChanges.map((f) => f.error.code)).toEqual(['AUTH_ERROR', 'AUTH_ERROR', 'AUTH_ERROR']);
  });

  it('waits as long as the server asked with Retry-After before a retry round', async () => {
    const { api, calls } = fakeApi((_ids, call) => {
      if (call === 1) throw new HttpError(429, 'slow down', { retryAfterMs: 5000 });
      return OK;
    });
    const { delays, sleep } = recordingSleep();
    const result = await new BatchSync(api, undefined, { errorHandler: exactHandler(), sleep }).syncInBatches(
      makeChanges(1),
    );
    expect(calls).toHaveLength(2);
    expect(delays).toEqual([5000]);
    expect(result.succeeded).toEqual(['change-0']);
  });

  it('does not retry when retryFailedBatches is off', async () => {
    const { api, calls } = fakeApi(() => ({ success: false, failed: [failure('change-0', 'UNAVAILABLE', true)] }));
    const result = await new BatchSync(api, undefined, { retryFailedBatches: false }).syncInBatches(makeChanges(2));
    expect(calls).toHaveLength(1);
    expect(result.succeeded).toEqual(['change-1']);
    expect(result.failedChanges.map((f) => f.changeId)).toEqual(['change-0']);
  });

  it('never has more than parallelBatches calls in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let call = 0;
    const api = {
      batchSync: async () => {
        call++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Finish out of order, so the pool has to refill as calls complete.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (call % 3 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        inFlight--;
        return OK;
      },
    };
    const result = await new BatchSync(api, undefined, { batchSize: 1, parallelBatches: 3 }).syncInBatches(
      makeChanges(20),
    );
    expect(maxInFlight).toBe(3);
    expect(result.totalProcessed).toBe(20);
    expect(result.results.map((r) => r.batchIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('starts the next batch as soon as one finishes, not when its whole group does', async () => {
    const resolvers = new Map<string, (response: BatchSyncResponse) => void>();
    const started: string[] = [];
    const api = {
      batchSync: (batch: Change[]) =>
        new Promise<BatchSyncResponse>((resolve) => {
          const id = batch[0]!.id;
          started.push(id);
          resolvers.set(id, resolve);
        }),
    };
    const running = new BatchSync(api, undefined, { batchSize: 1, parallelBatches: 2 }).syncInBatches(makeChanges(3));
    await vi.waitFor(() => expect(started).toEqual(['change-0', 'change-1']));
    resolvers.get('change-1')?.(OK);
    await vi.waitFor(() => expect(started).toEqual(['change-0', 'change-1', 'change-2']));
    resolvers.get('change-2')?.(OK);
    resolvers.get('change-0')?.(OK);
    await expect(running).resolves.toMatchObject({ totalProcessed: 3 });
  });

  describe('markAsSynced', () => {
    it('is called only for changes the server accepted', async () => {
      const { api } = fakeApi((ids) => {
        if (ids.includes('change-4')) throw new HttpError(400, 'bad batch');
        if (ids.includes('change-1'))
          return { success: false, failed: [failure('change-1', 'VALIDATION_ERROR', false)] };
        return OK;
      });
      const { marked, store } = recordingStore();
      const result = await new BatchSync(api, store, { batchSize: 2, parallelBatches: 1 }).syncInBatches(
        makeChanges(6),
      );
      expect(marked).toEqual(['change-0', 'change-2', 'change-3']);
      expect(result.succeeded).toEqual(marked);
      expect(result.failedChanges.map((f) => f.changeId)).toEqual(['change-1', 'change-4', 'change-5']);
    });

    it('is not called for a batch the server called unsuccessful without naming a change', async () => {
      const { api } = fakeApi(() => ({ success: false, failed: [] }));
      const { marked, store } = recordingStore();
      const result = await new BatchSync(api, store, { retryFailedBatches: false }).syncInBatches(makeChanges(2));
      expect(marked).toEqual([]);
      expect(result.totalFailed).toBe(2);
    });

    it('is not called for a malformed response', async () => {
      const { api } = fakeApi(() => ({ success: true }) as unknown as BatchSyncResponse);
      const { marked, store } = recordingStore();
      const result = await new BatchSync(api, store, { retryFailedBatches: false }).syncInBatches(makeChanges(2));
      expect(marked).toEqual([]);
      expect(result.failedChanges.map((f) => f.error.code)).toEqual(['UNKNOWN_ERROR', 'UNKNOWN_ERROR']);
    });

    it('ignores failures the server reports for changes the batch did not carry', async () => {
      const { api } = fakeApi(() => ({ success: false, failed: [failure('not-mine', 'VALIDATION_ERROR', false)] }));
      const { marked, store } = recordingStore();
      const { delays, sleep } = recordingSleep();
      const result = await new BatchSync(api, store, { sleep }).syncInBatches(makeChanges(2));
      expect(marked).toEqual(['change-0', 'change-1']);
      expect(delays).toEqual([]);
      expect(result.totalFailed).toBe(0);
    });

    it('stops the sync when the local store cannot mark a change, starting no further batch', async () => {
      const { api, calls } = fakeApi(() => OK);
      const diskFull = new Error('SQLITE_FULL');
      const store = {
        markAsSynced: () => {
          throw diskFull;
        },
      };
      await expect(
        new BatchSync(api, store, { batchSize: 1, parallelBatches: 1 }).syncInBatches(makeChanges(3)),
      ).rejects.toBe(diskFull);
      expect(calls).toHaveLength(1);
    });
  });

  it('sends a change id only once even if it is listed twice', async () => {
    const { api, calls } = fakeApi(() => OK);
    const [first, second] = makeChanges(2) as [Change, Change];
    const result = await new BatchSync(api).syncInBatches([first, second, first]);
    expect(calls).toEqual([['change-0', 'change-1']]);
    expect(result.succeeded).toEqual(['change-0', 'change-1']);
  });

  describe('abort', () => {
    it('stops during the backoff and sends nothing more', async () => {
      const controller = new AbortController();
      const { api, calls } = fakeApi(() => {
        throw new NetworkError('down');
      });
      const reason = new Error('sync stopped');
      const sleep: Sleep = async () => {
        controller.abort(reason);
        // A sleep that ignores its signal: the abort must still win.
        await new Promise<void>(() => {});
      };
      const batchSync = new BatchSync(api, undefined, { sleep, signal: controller.signal });
      await expect(batchSync.syncInBatches(makeChanges(2))).rejects.toBe(reason);
      expect(calls).toHaveLength(1);
    });

    it('passes the signal to the transport and starts no new batch once aborted', async () => {
      const controller = new AbortController();
      const signals: Array<AbortSignal | undefined> = [];
      const api = {
        batchSync: async (_batch: Change[], options?: { signal?: AbortSignal }) => {
          signals.push(options?.signal);
          controller.abort();
          throw new DOMException('This operation was aborted', 'AbortError');
        },
      };
      const { marked, store } = recordingStore();
      const batchSync = new BatchSync(api, store, { batchSize: 1, parallelBatches: 1, signal: controller.signal });
      await expect(batchSync.syncInBatches(makeChanges(3))).rejects.toMatchObject({ name: 'AbortError' });
      expect(signals).toEqual([controller.signal]);
      expect(marked).toEqual([]);
    });
  });

  it('rejects nonsensical options with a clear error', () => {
    const { api } = fakeApi(() => OK);
    expect(() => new BatchSync(api, undefined, { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1/);
    expect(() => new BatchSync(api, undefined, { parallelBatches: 1.5 })).toThrow(/parallelBatches/);
    expect(() => new BatchSync(api, undefined, { maxRetries: -1 })).toThrow(/maxRetries/);
  });
});
