/**
 * The benchmark's data: one deterministic record shape shared by Ferry, the floor and
 * PouchDB, so every system moves the same bytes. A record's JSON is about 130 bytes.
 */

/** One benchmark record, a `todos` entity as the server's default schema declares it. */
export interface BenchRecord {
  id: string;
  title: string;
  completed: boolean;
  order: number;
}

const FILLER = 'buy oat milk, eggs, bread and coffee beans on the way home from work';

/** The `index`-th record; the same index always gives the same record. */
export function makeRecord(index: number): BenchRecord {
  return {
    id: `rec-${String(index).padStart(8, '0')}`,
    title: `${FILLER} #${index}`,
    completed: index % 3 === 0,
    order: index,
  };
}

/** The record without its id: what Ferry stores as the entity's data. */
export function recordFields(record: BenchRecord): Omit<BenchRecord, 'id'> {
  const { id: _id, ...fields } = record;
  return fields;
}

/** Average JSON size in bytes of the first `count` records (reported next to the figures). */
export function averageRecordBytes(count = 1000): number {
  let total = 0;
  for (let index = 0; index < count; index++) total += Buffer.byteLength(JSON.stringify(makeRecord(index)));
  return Math.round(total / count);
}
