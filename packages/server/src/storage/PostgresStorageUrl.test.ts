import { describe, expect, it } from 'vitest';
import { isPostgresUrl, redactPostgresUrl } from './PostgresStorageUrl.js';

describe('PostgreSQL --db URLs', () => {
  it('tells a postgres:// or postgresql:// URL from a SQLite path', () => {
    expect(isPostgresUrl('postgres://u@h/db')).toBe(true);
    expect(isPostgresUrl('POSTGRESQL://u@h/db')).toBe(true);
    expect(isPostgresUrl('./data/postgres.db')).toBe(false);
    expect(isPostgresUrl(':memory:')).toBe(false);
    expect(isPostgresUrl(undefined)).toBe(false);
  });

  it('hides the password in what it prints', () => {
    expect(redactPostgresUrl('postgres://ferry:s3cret@db:5432/ferry')).toBe('postgres://ferry:***@db:5432/ferry');
    expect(redactPostgresUrl('postgres://ferry@db/ferry')).toBe('postgres://ferry@db/ferry');
    expect(redactPostgresUrl('postgres://ferry:s3cret@[bad/db')).not.toContain('s3cret');
  });
});
