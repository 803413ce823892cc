/** An HMAC secret as jose wants it: bytes. A string secret is its UTF-8 bytes. */
export function secretKey(secret: string | Uint8Array): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.length === 0) throw new Error('auth.secret must not be empty');
  return key;
}
