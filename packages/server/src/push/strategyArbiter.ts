import {
  AUTOMATIC_STRATEGIES,
  type AutomaticStrategy,
  type Change,
  decodeHlc,
  isAutomaticStrategy,
  mergeVersionVectors,
  resolveStates,
  type ServerRecord,
  type VersionedState,
} from '@ferry/protocol';
import { SchemaError } from '../errors.js';
import type { ServerSchema } from '../schema/parseSchema.js';
import type { ConflictArbiter, ConflictInput } from './decideChange.js';

/** Conflict strategy per entity type, for the server to arbitrate stale-base pushes with. */
export type ConflictStrategies = Readonly<Record<string, AutomaticStrategy>>;

/**
 * Checks a strategy map against the schema: every key a declared entity type, every value
 * an automatic strategy (`manual` needs a person, so the server cannot arbitrate with it:
 * leave the type out and conflicts are reported to the device). Throws a {@link SchemaError}
 * naming the first problem; returns a clean copy.
 *
 * @example
 * parseConflictStrategies({ todos: 'last-write-wins', notes: 'merge' }, schema);
 */
export function parseConflictStrategies(input: unknown, schema: ServerSchema): ConflictStrategies {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SchemaError('Conflict strategies must be an object like { "todos": "last-write-wins" }');
  }
  const strategies: Record<string, AutomaticStrategy> = {};
  for (const [type, strategy] of Object.entries(input)) {
    if (!schema.entities.has(type)) {
      throw new SchemaError(`Conflict strategy for "${type}", which the schema does not declare`);
    }
    if (!isAutomaticStrategy(strategy)) {
      throw new SchemaError(
        `Conflict strategy ${JSON.stringify(strategy)} for "${type}" is not one the server can apply; use one of ${AUTOMATIC_STRATEGIES.join(', ')} (leave the type out to let devices resolve)`,
      );
    }
    strategies[type] = strategy;
  }
  return strategies;
}

/** The pushed change as one side of a conflict. */
function stateOfChange(change: Change): VersionedState {
  const state: VersionedState = {
    data: change.data,
    operation: change.operation,
    hlc: change.hlc,
    timestamp: change.timestamp,
    vector: change.vector,
    clientId: change.clientId,
  };
  if (change.fieldHlcs) state.fieldHlcs = change.fieldHlcs;
  return state;
}

/** The server's current record as the other side. */
function stateOfRecord(record: ServerRecord): VersionedState {
  return {
    data: record.deleted ? null : record.data,
    deleted: record.deleted,
    hlc: record.hlc,
    timestamp: decodeHlc(record.hlc).wallTime,
    vector: record.vector,
    fieldHlcs: record.fieldHlcs,
    clientId: record.clientId,
  };
}

/**
 * Arbitrates stale-base pushes by entity type with the same pure `resolveStates` the
 * client's `ConflictResolver` uses, so a device that learned the strategies from
 * `GET /v1/config` would decide alike. The result is written as ONE whole-state change
 * (CREATE, or DELETE) with the merge of both vectors, which every device adopts as newer:
 *
 *   server-wins                          → null: reported as `conflict` with the current record
 *   an UPDATE that would revive a         → null too: only the device has the whole record
 *   deleted record
 *   last-/first-write-wins, merge,        → the resolved state, written (`applied`), even when
 *   client-wins                             the current record stands: the pushed change is
 *                                           then absorbed, and its device adopts the record
 *
 * Types without a strategy go to `fallback` (by default: reported to the device).
 *
 * @example
 * createServer({ schema, auth, conflictStrategies: { todos: 'merge' } }); // builds one of these
 */
export function createStrategyArbiter(strategies: ConflictStrategies, fallback?: ConflictArbiter): ConflictArbiter {
  const byType = new Map(Object.entries(strategies));
  return (conflict: ConflictInput) => {
    const { change, current } = conflict;
    const strategy = byType.get(change.entityType);
    if (strategy === undefined) return fallback ? fallback(conflict) : null;
    if (strategy === 'server-wins') return null;
    const resolution = resolveStates(strategy, stateOfChange(change), stateOfRecord(current));
    // An UPDATE carries only the fields it wrote; bringing a deleted record back from it would
    // lose the rest. The device holds the whole record: it settles this one, by the same rule.
    if (!resolution.deleted && current.deleted && change.operation === 'UPDATE') return null;
    const hlc = resolution.hlc ?? change.hlc;
    const arbitrated: Change = {
      ...change,
      operation: resolution.deleted ? 'DELETE' : 'CREATE',
      data: resolution.deleted ? null : (resolution.resolvedData ?? {}),
      hlc,
      timestamp: decodeHlc(hlc).wallTime,
      vector: mergeVersionVectors(current.vector, change.vector),
    };
    delete arbitrated.fieldHlcs;
    if (!resolution.deleted && resolution.fieldHlcs) arbitrated.fieldHlcs = resolution.fieldHlcs;
    return arbitrated;
  };
}
