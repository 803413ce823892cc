/**
 * The SQL objects a declared schema adds to the device's store: one partial expression index
 * per indexed field or compound index, and one read-only view per entity type. Records stay in
 * `ferry_entities` as JSON, so a schema change never rewrites a row: it drops and creates
 * indexes and views, in the one transaction that opens the store.
 *
 * Entity type and field names reach this SQL as literals and identifiers, which is safe only
 * because the schema module admits nothing but `[A-Za-z0-9_$]` names (and not `ferry_…`).
 */
import type { EntitySchema, Schema } from '@ferry/protocol';
import type { SqlExecutor } from './SqlDriver.js';

/** Where the store remembers which views and indexes its schema made. */
export const ENTITY_SCHEMA_KEY = 'entitySchema';
const INDEX_PREFIX = 'ferry_ix_';

/** The column of a record's space, selected by each view as `space` (NULL: the private space). */
const SPACE_COLUMN: string | null = 'space';

/** `json_extract(data, '$.field')`: the exact expression queries must use to hit an index. */
export function fieldExpression(field: string): string {
  return `json_extract(data, '$.${field}')`;
}

/** The `WHERE` that scopes rows to one live entity type; indexes are partial on exactly this. */
export function typeScope(entityType: string): string {
  return `entity_type = '${entityType}' AND deleted = 0`;
}

/** A double-quoted identifier (names are already restricted; quoting keeps keywords usable). */
export function quoteIdentifier(name: string): string {
  return `"${name}"`;
}

/** Each index of an entity type as its key fields: compound indexes, then single indexed fields. */
export function indexKeys(entity: EntitySchema): string[][] {
  const keys = entity.indexes.map((fields) => [...fields]);
  for (const [field, declared] of entity.fields) if (declared.indexed) keys.push([field]);
  return keys;
}

interface IndexDdl {
  name: string;
  sql: string;
}

/**
 * The indexes of one entity type, partial on the type's live rows. The key leads with
 * `entity_type, deleted` although both are constant in the index: without statistics SQLite
 * ranks an index by how many leading columns a query constrains, and the primary key
 * `(entity_type, entity_id)` would otherwise win over a range on the field. `entity_id` ends
 * every key, so sorted pages need no sort step.
 */
function indexesOf(entityType: string, entity: EntitySchema): IndexDdl[] {
  return indexKeys(entity).map((fields) => {
    const name = `${INDEX_PREFIX}${entityType}__${fields.join('__')}`;
    const columns = ['entity_type', 'deleted', ...fields.map(fieldExpression), 'entity_id'].join(', ');
    return {
      name,
      sql: `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(name)} ON ferry_entities (${columns}) WHERE ${typeScope(entityType)}`,
    };
  });
}

/** The view of one entity type: `id`, then each declared field as a column. */
function viewOf(entityType: string, entity: EntitySchema): string {
  const columns = ['entity_id AS id'];
  if (SPACE_COLUMN !== null) columns.push(`${SPACE_COLUMN} AS space`);
  for (const field of entity.fields.keys()) columns.push(`${fieldExpression(field)} AS ${quoteIdentifier(field)}`);
  return `CREATE VIEW ${quoteIdentifier(entityType)} AS SELECT ${columns.join(', ')} FROM ferry_entities WHERE ${typeScope(entityType)}`;
}

/** What a store's schema made, as kept under {@link ENTITY_SCHEMA_KEY}. */
interface AppliedSchema {
  views: string[];
  indexes: string[];
  /** Every statement, so an unchanged schema is recognised without touching SQLite's catalogue. */
  ddl: string[];
}

/**
 * Brings the store's views and indexes in line with `schema`, inside the caller's transaction:
 * drops what an earlier schema made and this one does not declare, creates what is new, and
 * records the result. Does nothing when the schema is the one the store already has.
 */
export async function applyEntitySchema(sql: SqlExecutor, schema: Schema): Promise<void> {
  const indexes = [...schema.entities].flatMap(([type, entity]) => indexesOf(type, entity));
  const views = [...schema.entities].map(([type, entity]) => ({ name: type, sql: viewOf(type, entity) }));
  const next: AppliedSchema = {
    views: views.map((view) => view.name),
    indexes: indexes.map((index) => index.name),
    ddl: [...indexes, ...views].map((object) => object.sql),
  };
  const { rows } = await sql.execute('SELECT value FROM ferry_kv WHERE key = ?', [ENTITY_SCHEMA_KEY]);
  const previous: AppliedSchema = rows[0]
    ? (JSON.parse(String(rows[0].value)) as AppliedSchema)
    : { views: [], indexes: [], ddl: [] };
  if (JSON.stringify(previous.ddl) === JSON.stringify(next.ddl)) return;

  // Views are cheap: rebuild them all. Indexes cost a pass over the type's rows: keep the
  // ones the new schema still declares (an index's name fixes its definition).
  for (const view of previous.views) await sql.execute(`DROP VIEW IF EXISTS ${quoteIdentifier(view)}`);
  const wanted = new Set(next.indexes);
  for (const index of previous.indexes) {
    if (!wanted.has(index)) await sql.execute(`DROP INDEX IF EXISTS ${quoteIdentifier(index)}`);
  }
  for (const index of indexes) await sql.execute(index.sql);
  for (const view of views) await sql.execute(view.sql);
  await sql.execute(
    'INSERT INTO ferry_kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    [ENTITY_SCHEMA_KEY, JSON.stringify(next)],
  );
}
