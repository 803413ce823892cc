import type { Change } from '@ferry/protocol';

/**
 * Sizes of `POST /v1/push` bodies, as the HTTP transport serialises them
 * (`JSON.stringify({ clientId, changes })`), so a push can be cut to the server's body limit
 * before it is sent rather than after the server refuses it.
 */

/** UTF-8 length of a string, without TextEncoder or Buffer (neither is everywhere React Native runs). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is one 4-byte character; a lone surrogate is written as U+FFFD (3 bytes).
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes one change adds to a push body (its JSON; the comma between changes is counted by {@link pushBodyBytes}). */
export function changeBytes(change: Change): number {
  return utf8Length(JSON.stringify(change));
}

/** Bytes of a push body from `clientId` carrying changes of the given sizes. */
export function pushBodyBytes(clientId: string, changeSizes: readonly number[]): number {
  // {"clientId":<id>,"changes":[<c1>,<c2>]}
  const envelope = utf8Length(`{"clientId":${JSON.stringify(clientId)},"changes":[]}`);
  let total = envelope + Math.max(0, changeSizes.length - 1);
  for (const size of changeSizes) total += size;
  return total;
}
