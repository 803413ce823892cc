import { describe, expect, it } from 'vitest';
import { parseMembershipFlags, UsageError } from './runServe.js';

describe('ferry serve --membership', () => {
  it('defaults to Ferry-managed membership, and reads the token source with its claim', () => {
    expect(parseMembershipFlags(undefined, undefined)).toEqual({ source: 'ferry', claim: 'spaces' });
    expect(parseMembershipFlags('token', undefined)).toEqual({ source: 'token', claim: 'spaces' });
    expect(parseMembershipFlags('token', 'teams')).toEqual({ source: 'token', claim: 'teams' });
  });

  it('refuses an unknown source, a claim without the token source, and an unusable claim name', () => {
    expect(() => parseMembershipFlags('ldap', undefined)).toThrow(UsageError);
    expect(() => parseMembershipFlags(undefined, 'teams')).toThrow(/add --membership token/);
    expect(() => parseMembershipFlags('token', 'a b')).toThrow(UsageError);
  });
});
