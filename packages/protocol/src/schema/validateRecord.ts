import type { RecordData } from '../json.js';
import type { EntitySchema, FieldType } from './parseSchema.js';

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'any':
    case 'json':
      return true;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

/** What {@link validateRecord} checks: a whole record (a CREATE) or a patch of some fields. */
export type RecordShape = 'record' | 'patch';

/**
 * Checks record data against an entity's declared fields. Fields are optional and `null`
 * clears a field unless the field is declared `nullable: false`: then it may not be null, and a
 * whole record (`shape: 'record'`) must carry it. Returns a message naming the first bad field,
 * or `undefined` when the data fits. Server and device both call this, so they agree.
 */
export function validateRecord(
  entityType: string,
  entity: EntitySchema,
  data: RecordData,
  shape: RecordShape = 'patch',
): string | undefined {
  for (const [field, value] of Object.entries(data)) {
    const declared = entity.fields.get(field);
    if (declared === undefined) {
      if (entity.strict) return `${entityType}.${field} is not a declared field (the entity type is strict)`;
      continue;
    }
    if (value === null) {
      if (!declared.nullable) return `${entityType}.${field} may not be null (it is declared "nullable": false)`;
      continue;
    }
    if (!hasType(value, declared.type)) {
      const actual = Array.isArray(value) ? 'array' : typeof value;
      const type = declared.type;
      return `${entityType}.${field} must be ${type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`}, got ${actual}`;
    }
  }
  if (shape === 'record') {
    for (const [field, declared] of entity.fields) {
      if (!declared.nullable && !Object.hasOwn(data, field)) {
        return `${entityType}.${field} is missing; it is declared "nullable": false, so every record needs it`;
      }
    }
  }
  return undefined;
}
