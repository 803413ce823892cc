import { type Change, type RecordData, validateRecord } from '@ferry/protocol';
import type { EntitySchema } from './parseSchema.js';

/**
 * Checks a change's data against its entity's declared fields with the protocol's
 * {@link validateRecord} (the device runs the same check before it queues a write). A CREATE
 * carries the whole record, so it must hold every non-nullable field; an UPDATE is a patch.
 * Returns a message naming the first bad field, or `undefined` when the data fits.
 */
export function validateFields(
  entityType: string,
  entity: EntitySchema,
  data: RecordData,
  operation: Change['operation'] = 'UPDATE',
): string | undefined {
  return validateRecord(entityType, entity, data, operation === 'CREATE' ? 'record' : 'patch');
}
