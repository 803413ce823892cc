/**
 * A rejection's reason as a report may show it: the server's words (which name the field or
 * type at fault) without the value the device sent. Schema validation messages end in
 * `but received "…"` quoting it; that value is replaced by `…`. Used by the server's inspector
 * and by the client's diagnostics, so neither carries a record's contents.
 */
export function redactReason(message: string): string {
  return message.replace(/\breceived (?:"(?:[^"\\]|\\.)*"?|[^;]*)/g, 'received …').slice(0, 300);
}
