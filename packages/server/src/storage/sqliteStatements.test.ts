import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { preparePullJson } from './sqlitePullJson.js';
import { MIGRATIONS, prepareStatements } from './sqliteStatements.js';

describe('prepareStatements', () => {
  it('binds every page limit as `+?`, so SQLite never re-prepares a page query per call', () => {
    const db = new Database(':memory:');
    for (const sql of MIGRATIONS) db.exec(sql);
    const statements = Object.entries(prepareStatements(db)).map(([name, statement]) => ({
      name,
      source: (statement as unknown as { source: string }).source,
    }));
    const paged = statements.filter(({ source }) => /\bLIMIT\b/.test(source));
    expect(paged.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['pull', 'pullTypes', 'changesSince', 'listRecords']),
    );
    // A plain `LIMIT ?` is a value the planner reads, and binding it expires the statement.
    for (const { name, source } of paged)
      expect({ name, limit: /LIMIT \+\?\s*$/.test(source) }).toEqual({ name, limit: true });
    // The stored-JSON pages (sqlitePullJson.ts): the page's limit inside the subquery, `LIMIT 1` for hasMore.
    for (const [name, statement] of Object.entries(preparePullJson(db))) {
      const limits = (statement as unknown as { source: string }).source.match(/LIMIT (\+\?|\d+)/g);
      expect({ name, limits }).toEqual({
        name,
        limits: [name.toLowerCase().includes('more') ? 'LIMIT 1' : 'LIMIT +?'],
      });
    }
    db.close();
  });
});
