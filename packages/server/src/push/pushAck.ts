import { type CompactResult, compactResult, type PushResponse } from '@ferry/protocol';
import { HttpError } from '../errors.js';
import type { PushEntry } from './parsePushRequest.js';

/**
 * Whether a push asked for compact acknowledgements (`?ack=compact`; `full` or no `ack` is the
 * full form every client understands). Any other value is refused before anything is applied.
 */
export function wantsCompactAck(query: unknown): boolean {
  const ack = typeof query === 'object' && query !== null ? (query as { ack?: unknown }).ack : undefined;
  if (ack === undefined || ack === 'full') return false;
  if (ack === 'compact') return true;
  throw HttpError.of(
    'VALIDATION_ERROR',
    `ack must be "compact" or "full", got ${JSON.stringify(ack)?.slice(0, 40)}; leave it out for full acknowledgements`,
  );
}

/**
 * The push's answer with compact acknowledgements where they lose nothing: a result whose
 * record is exactly the pushed change's own becomes `{ changeId, status, version, seq }`
 * (docs/protocol.md, `compactResult`). Anything else stays in full.
 */
export function compactPushResponse(
  entries: readonly PushEntry[],
  response: PushResponse,
): Omit<PushResponse, 'results'> & { results: Array<PushResponse['results'][number] | CompactResult> } {
  return {
    results: response.results.map((result, index) => compactResult(result, entries[index]?.change)),
    cursor: response.cursor,
    serverTime: response.serverTime,
  };
}
