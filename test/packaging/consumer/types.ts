/**
 * Imports @ferry/protocol, @ferry/client (and its better-sqlite3 subpath) and @ferry/server the
 * way an app does (types-react-native.ts does the same for @ferry/react-native), and proves
 * each import has its real type: under `skipLibCheck`, an import TypeScript cannot resolve
 * inside a package's declarations turns silently into `any`. Each probe below is a type error
 * on a real type and none on `any`, and `@ts-expect-error` makes an absent error fail the
 * typecheck (TS2578). (Type-level `IsAny<T>` tests do not do: an unresolved import is
 * TypeScript's error type, which passes them.) Never run.
 */

import { ConflictResolver, createSyncSystem, type SyncState } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { compareVersions, HybridLogicalClock, PROTOCOL_VERSION } from '@ferry/protocol';
import { createServer, defaultSchema, signDevToken } from '@ferry/server';

/** Takes only a symbol, which nothing Ferry exports is: each call below must be a type error. */
declare function onlyASymbol(value: symbol): void;
declare const state: SyncState;

// @ts-expect-error compareVersions is typed
onlyASymbol(compareVersions);
// @ts-expect-error HybridLogicalClock is typed
onlyASymbol(HybridLogicalClock);
// @ts-expect-error PROTOCOL_VERSION is typed
onlyASymbol(PROTOCOL_VERSION);
// @ts-expect-error ConflictResolver is typed
onlyASymbol(ConflictResolver);
// @ts-expect-error createSyncSystem is typed
onlyASymbol(createSyncSystem);
// @ts-expect-error a SyncState is typed
onlyASymbol(state);
// @ts-expect-error createBetterSqliteDriver is typed
onlyASymbol(createBetterSqliteDriver);
// @ts-expect-error createBetterSqliteDriver's driver is typed
onlyASymbol(createBetterSqliteDriver('app.db'));
// @ts-expect-error createServer is typed
onlyASymbol(createServer);
// @ts-expect-error defaultSchema is typed
onlyASymbol(defaultSchema);
// @ts-expect-error signDevToken is typed
onlyASymbol(signDevToken);

// And a wrong use is an error, as it would not be on `any`.
// @ts-expect-error compareVersions answers 'equal' | 'v1_newer' | 'v2_newer' | 'concurrent'
export const comparison: number = compareVersions({ a: 1 }, { a: 2 });
// @ts-expect-error the strategy must be one Ferry knows
export const resolver = new ConflictResolver('newest-wins');
// @ts-expect-error the server needs its auth and schema
export const server = createServer({ dbPath: ':memory:' });
