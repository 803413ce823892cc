import type { RecordData } from '@ferry/protocol';
import type { EntitySchema, FieldType } from './parseSchema.js';

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

/**
 * Checks record data against an entity's declared fields. Fields are optional and `null`
 * clears a field, so only present, non-null values are type-checked. Returns a message naming
 * the first bad field, or `undefined` when the data fits.
 */
export function validateFields(entityType: string, entity: EntitySchema, data: RecordData): string | undefined {
  for (const [field, value] of Object.entries(data)) {
    const type = entity.fields.get(field);
    if (type === undefined) {
      if (entity.strict) return `${entityType}.${field} is not a declared field (the entity type is strict)`;
      continue;
    }
    if (value !== null && !hasType(value, type)) {
      const actual = Array.isArray(value) ? 'array' : typeof value;
      return `${entityType}.${field} must be ${type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`}, got ${actual}`;
    }
  }
  return undefined;
}
