import { describeIssues } from '@ferry/protocol';
import * as v from 'valibot';
import { HttpError } from '../errors.js';
import type { ServerSchema } from '../schema/parseSchema.js';

/** Parses `input` with `schema`, or throws a 400 VALIDATION_ERROR naming the bad paths. */
export function parseInput<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) throw HttpError.of('VALIDATION_ERROR', describeIssues(parsed.issues));
  return parsed.output;
}

/** Throws a 400 UNKNOWN_ENTITY_TYPE unless `type` is declared in the schema. */
export function requireEntityType(schema: ServerSchema, type: string): string {
  if (!schema.entities.has(type)) {
    throw HttpError.of(
      'UNKNOWN_ENTITY_TYPE',
      `Entity type "${type.slice(0, 64)}" is not declared in the server schema; declared: ${[...schema.entities.keys()].join(', ')}`,
    );
  }
  return type;
}

/** Query-string integer (digits only) within `[min, max]`. */
export function queryInt(name: string, min: number, max: number) {
  return v.pipe(
    v.string(),
    v.regex(/^\d{1,16}$/, `${name} must be a non-negative integer`),
    v.transform(Number),
    v.number(),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );
}
