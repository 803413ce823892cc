import type { Change } from '@ferry/protocol';
import { NetworkError, SyncError } from '../errors.js';
import { stripOutbox } from '../store/StoreTx.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { changeFromJson, pushBodyBytes } from '../transport/pushBody.js';

/** One push request's worth of the outbox. */
export interface OutboxBatch {
  changes: Change[];
  /** Outbox position the batch was read after (to read it again, split). */
  after: number;
  /** Outbox position of its last change. */
  lastSeq: number;
  /** Size of the request body carrying it. */
  bytes: number;
}

/** A change taken off the outbox because no server will ever accept it. */
export interface DeadLettered {
  change: Change;
  error: { code: string; message: string; retryable: false };
}

/** Bodies at most this large are never suspected of being refused for their size. */
export const SMALL_BODY_BYTES = 16 * 1024;

/** A lone change whose request was cut off this many times, while pulls went through, is dead-lettered. */
export const MAX_CUT_OFF_SENDS = 3;

/** How the server refused a whole push request, when the request itself (not the network) is the cause. */
type Refusal = 'too-large' | 'refused';

/**
 * Cuts the outbox into push requests that the server can take: at most `batchSize` changes and
 * the server's `maxChangesPerPush`, and a body of at most its `maxBodyBytes` (learned from
 * `GET /v1/config`, else the protocol's limit). It also decides what a refused request means,
 * so that no change can wedge the queue:
 *
 *   a change too large to travel alone  → dead letter, before anything is sent
 *   413 / 400 for a request of n > 1    → split in half and send again (a 413 also halves
 *                                         the body budget from then on)
 *   413 / 400 for a lone change         → dead letter
 *   connection cut off mid-body (large) → budget halved; a lone change cut off
 *                                         {@link MAX_CUT_OFF_SENDS} times, while the pull
 *                                         after each went through, → dead letter
 */
export class OutboxBatcher {
  readonly #tracker: ChangeTracker;
  readonly #batchSize: number;
  readonly #now: () => number;
  /** Lowered after a 413 or a cut-off large body; never above the server's limit. */
  #budget = Number.POSITIVE_INFINITY;
  /** The lone large change whose request was cut off last, awaiting proof that the network works. */
  #cutOff: string | null = null;

  constructor(tracker: ChangeTracker, batchSize: number, now: () => number) {
    this.#tracker = tracker;
    this.#batchSize = batchSize;
    this.#now = now;
  }

  /** Body bytes one request may carry now. */
  get budget(): number {
    return Math.min(this.#budget, this.#tracker.rules.maxBodyBytes);
  }

  /**
   * The next request's changes after outbox position `after`, at most `maxCount` of them.
   * Changes that cannot fit in a request alone are dead-lettered on the way and returned in
   * `dead`; an empty `changes` means the outbox has nothing more to send.
   */
  async next(
    after: number,
    maxCount = Number.POSITIVE_INFINITY,
  ): Promise<{ batch: OutboxBatch; dead: DeadLettered[] }> {
    const { rules, clientId, store } = this.#tracker;
    const count = Math.max(1, Math.min(this.#batchSize, rules.maxChangesPerPush, maxCount));
    const dead: DeadLettered[] = [];
    let from = after;
    for (;;) {
      // Each change comes as the JSON it was queued with; parsed once, never serialised again.
      const entries = await store.read((tx) => tx.pushableChangesAfter(from, count));
      const changes: Change[] = [];
      const tooLarge: Change[] = [];
      let bytes = pushBodyBytes(clientId, []);
      let lastSeq = from;
      for (const entry of entries) {
        const { change, bytes: size } = changeFromJson(entry.json);
        if (pushBodyBytes(clientId, [size]) > rules.maxBodyBytes) {
          tooLarge.push(change);
          if (changes.length === 0) lastSeq = entry.seq;
          continue;
        }
        const grown = bytes + size + (changes.length > 0 ? 1 : 0);
        if (changes.length > 0 && grown > this.budget) break;
        changes.push(change);
        bytes = grown;
        lastSeq = entry.seq;
      }
      if (tooLarge.length > 0) dead.push(...(await this.#deadLetter(tooLarge, tooLargeError(rules.maxBodyBytes))));
      if (changes.length > 0 || entries.length === 0) return { batch: { changes, after, lastSeq, bytes }, dead };
      from = lastSeq;
    }
  }

  /**
   * What to do after a push request failed as a whole: `split` (send the batch again in
   * smaller requests), `dead-letter` (its lone change can never be accepted), or `fail` (the
   * network, the server's health or auth: the whole push fails and is retried later).
   */
  onRequestFailed(error: unknown, batch: OutboxBatch): 'split' | 'dead-letter' | 'fail' {
    const refusal = refusalOf(error);
    if (refusal) {
      if (refusal === 'too-large' && batch.changes.length > 1) this.#lower(batch.bytes);
      return batch.changes.length > 1 ? 'split' : 'dead-letter';
    }
    if (error instanceof NetworkError && batch.bytes > SMALL_BODY_BYTES) {
      // Proxies and load balancers may cut a body they will not take instead of answering 413;
      // from here that looks like any dropped connection. Smaller requests cost little.
      this.#lower(batch.bytes);
      this.#cutOff = batch.changes.length === 1 ? batch.changes[0]!.id : null;
    } else {
      this.#cutOff = null;
    }
    return 'fail';
  }

  /** The push request succeeded: a cut-off before it was not about its size after all. */
  onRequestSucceeded(): void {
    this.#cutOff = null;
  }

  /**
   * The network works (a pull just went through) although the last push was cut off: if that
   * push carried one large change, count it against that change, and dead-letter the change
   * once it has been cut off {@link MAX_CUT_OFF_SENDS} times. Returns what was dead-lettered.
   */
  async confirmNetworkWorks(): Promise<DeadLettered[]> {
    const changeId = this.#cutOff;
    this.#cutOff = null;
    if (changeId === null) return [];
    const message = 'the connection was cut off while this change was being sent, while other requests went through';
    const attempts = await this.#tracker.store.write(async (tx) => {
      await tx.recordAttempt(changeId, `NETWORK_ERROR: ${message}`);
      const entry = (await tx.pendingChanges(-1, true)).find((candidate) => candidate.id === changeId);
      return entry ? { entry, attempts: entry.attempts } : null;
    });
    if (!attempts || attempts.attempts < MAX_CUT_OFF_SENDS) return [];
    const error = {
      code: 'PAYLOAD_TOO_LARGE',
      message:
        `Sending this change failed ${attempts.attempts} times: ${message}. Something between the app and the ` +
        'server (a proxy, a load balancer) most likely refuses request bodies this large; make the record smaller ' +
        'or raise that limit, then retry the dead letter.',
      retryable: false as const,
    };
    return this.#deadLetter([stripOutbox(attempts.entry)], error);
  }

  /** Moves `changes` from the outbox to the dead letters, in one transaction. */
  async deadLetter(changes: Change[], error: unknown): Promise<DeadLettered[]> {
    const wire = wireOf(error);
    return this.#deadLetter(changes, wire);
  }

  async #deadLetter(changes: Change[], error: DeadLettered['error']): Promise<DeadLettered[]> {
    await this.#tracker.store.write(async (tx) => {
      for (const change of changes) {
        await tx.addDeadLetter(change, error, this.#now());
        await tx.removeChange(change.id);
      }
    });
    return changes.map((change) => ({ change, error }));
  }

  #lower(bytes: number): void {
    this.#budget = Math.max(SMALL_BODY_BYTES, Math.floor(bytes / 2));
  }
}

/** A whole-request refusal caused by the request's content (its size, one bad change), not by the network. */
function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof SyncError) || error.retryable) return undefined;
  if (error.status === 413 || error.serverCode === 'PAYLOAD_TOO_LARGE' || error.serverCode === 'TOO_MANY_CHANGES') {
    return 'too-large';
  }
  // A server that checks a push as a whole answers 400 when any one change is bad (an entity
  // type it does not declare, say): halving finds that change and lets the others through.
  if (error.status === 400 || error.status === 422) return 'refused';
  return undefined;
}

function tooLargeError(limit: number): DeadLettered['error'] {
  return {
    code: 'PAYLOAD_TOO_LARGE',
    message:
      `This change alone is larger than the ${limit} bytes the server accepts in one request, so it can never ` +
      'sync. Keep large content (files, images) outside the record and store a reference to it instead.',
    retryable: false,
  };
}

function wireOf(error: unknown): DeadLettered['error'] {
  if (error instanceof SyncError) {
    return { code: error.serverCode ?? error.code, message: error.message, retryable: false };
  }
  return { code: 'UNKNOWN_ERROR', message: String(error), retryable: false };
}
