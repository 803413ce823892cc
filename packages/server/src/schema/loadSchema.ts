import { readFile } from 'node:fs/promises';
import { SchemaError } from '../errors.js';
import { parseSchema, type ServerSchema } from './parseSchema.js';

/**
 * Reads and checks a schema file. Every failure is a {@link SchemaError} whose message names
 * the file and the problem, so a bad `--schema` stops startup with one readable line.
 */
export async function loadSchema(path: string): Promise<ServerSchema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SchemaError(`Cannot read schema file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SchemaError(`Schema file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseSchema(json);
  } catch (error) {
    throw new SchemaError(`Schema file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
