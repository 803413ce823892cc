import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { encodeHlc } from './hlc.js';
import { parseLiveServerMessage } from './live.js';
import { ChangeSchema, MultiPullRequestSchema, ServerRecordSchema } from './schemas.js';
import { canWrite, isSpaceId } from './spaces.js';

const change = (overrides: Record<string, unknown>) => ({
  id: 'c1',
  entityType: 'todos',
  entityId: 't1',
  operation: 'CREATE',
  data: { title: 'x' },
  timestamp: 1,
  hlc: encodeHlc({ wallTime: 1_732_550_000_000, counter: 0, node: 'dev' }),
  version: 1,
  vector: { dev: 1 },
  clientId: 'dev',
  ...overrides,
});

describe('spaces on the wire', () => {
  it('accepts a change without a space (the private space) or with a shared space id, nothing else', () => {
    expect(v.safeParse(ChangeSchema, change({})).success).toBe(true);
    expect(v.safeParse(ChangeSchema, change({ space: 'sp_family1' })).success).toBe(true);
    for (const space of ['alice', 'sp_', 'sp_x', '', 'SP_family1', 'sp_family1/../x', 7, null]) {
      expect(v.safeParse(ChangeSchema, change({ space })).success, String(space)).toBe(false);
    }
  });

  it('accepts the reserved membership types and no other $-type', () => {
    expect(v.safeParse(ChangeSchema, change({ entityType: '$space', data: { name: 'n' } })).success).toBe(true);
    expect(v.safeParse(ChangeSchema, change({ entityType: '$member', data: { role: 'viewer' } })).success).toBe(true);
    expect(v.safeParse(ChangeSchema, change({ entityType: '$other' })).success).toBe(false);
    const record = {
      entityType: '$member',
      entityId: 'bob',
      data: { role: 'editor' },
      deleted: false,
      version: 1,
      vector: { dev: 1 },
      hlc: encodeHlc({ wallTime: 1_732_550_000_000, counter: 0, node: 'dev' }),
      fieldHlcs: {},
      seq: 3,
      clientId: 'dev',
      changeId: 'c1',
    };
    expect(v.safeParse(ServerRecordSchema, record).success).toBe(true);
  });

  it('parses a multi-space checkpoint with defaults and refuses ids that are not spaces', () => {
    expect(v.parse(MultiPullRequestSchema, {})).toEqual({ spaces: {}, limit: 500 });
    expect(v.parse(MultiPullRequestSchema, { private: 3, spaces: { sp_family1: 9 } })).toMatchObject({
      private: 3,
      spaces: { sp_family1: 9 },
    });
    expect(v.safeParse(MultiPullRequestSchema, { spaces: { alice: 1 } }).success).toBe(false);
    expect(v.safeParse(MultiPullRequestSchema, { spaces: { sp_family1: 1.5 } }).success).toBe(false);
  });

  it('reads the space of a live poke, and ignores a malformed one', () => {
    expect(parseLiveServerMessage('{"type":"poke","cursor":4,"space":"sp_family1"}')).toEqual({
      type: 'poke',
      cursor: 4,
      space: 'sp_family1',
    });
    expect(parseLiveServerMessage('{"type":"poke","cursor":4,"space":"bob"}')).toEqual({ type: 'poke', cursor: 4 });
  });

  it('lets owners and editors write, viewers and strangers not', () => {
    expect([canWrite('owner'), canWrite('editor'), canWrite('viewer'), canWrite(null)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(isSpaceId('sp_abcdef')).toBe(true);
    expect(isSpaceId('alice')).toBe(false);
  });
});
