import type { Change, PushRequest } from '@ferry/protocol';

/**
 * Sizes of `POST /v1/push` bodies, as the HTTP transport serialises them
 * (`JSON.stringify({ clientId, changes })`), so a push can be cut to the server's body limit
 * before it is sent rather than after the server refuses it. The JSON a push was sized by is
 * kept and sent as it is: the push reads each change as the JSON it was queued with
 * ({@link changeFromJson}), so it is never serialised again, neither to size it nor to send it.
 */

/** The JSON of changes a push was sized by ({@link changeFromJson}); the objects are never mutated after. */
const serialised = new WeakMap<Change, string>();

// Every UTF-16 unit below 0x80 is one UTF-8 byte: most bodies are ASCII, and the pattern test
// runs natively where the loop below would visit every character in JavaScript.
const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 length of a string, without TextEncoder or Buffer (neither is everywhere React Native runs). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
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
  return utf8Length(serialised.get(change) ?? JSON.stringify(change));
}

/**
 * The change a push body carries as `json` (its wire JSON, as stored), with its size in the
 * body; the text is kept for {@link pushRequestJson}, so the change is sent as that text.
 */
export function changeFromJson(json: string): { change: Change; bytes: number } {
  const change = JSON.parse(json) as Change;
  serialised.set(change, json);
  return { change, bytes: utf8Length(json) };
}

/**
 * The push request body, byte for byte `JSON.stringify(request)`, built from the JSON each
 * change was sized by where there is one.
 */
export function pushRequestJson(request: PushRequest): string {
  const keys = Object.keys(request);
  // Anything but the plain { clientId, changes } shape is serialised as it comes.
  if (keys.length !== 2 || keys[0] !== 'clientId' || keys[1] !== 'changes') return JSON.stringify(request);
  const changes = request.changes.map((change) => serialised.get(change) ?? JSON.stringify(change));
  return `{"clientId":${JSON.stringify(request.clientId)},"changes":[${changes.join(',')}]}`;
}

/** Bytes of a push body from `clientId` carrying changes of the given sizes. */
export function pushBodyBytes(clientId: string, changeSizes: readonly number[]): number {
  // {"clientId":<id>,"changes":[<c1>,<c2>]}
  const envelope = utf8Length(`{"clientId":${JSON.stringify(clientId)},"changes":[]}`);
  let total = envelope + Math.max(0, changeSizes.length - 1);
  for (const size of changeSizes) total += size;
  return total;
}
