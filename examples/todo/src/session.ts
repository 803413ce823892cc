/**
 * A signed-in user on this device: the dev token, the local SQLite database and the sync
 * system around it. Credentials stay in sessionStorage so a reload while offline reopens the
 * session (and its pending changes) without asking the server for anything.
 */
import {
  type Collection,
  createSyncSystem,
  HttpRemoteAPI,
  RESOLUTION_STRATEGIES,
  type ResolutionStrategy,
  type SyncSystem,
} from '@ferry/client';
import { liveUrlFrom } from '@ferry/client/engine';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/client/protocol';
import { claimDevice } from './deviceLock';
import { NetworkSwitch } from './network';
import { openBrowserDatabase } from './openBrowserDatabase';
import { type Todo, todoSchema } from './schema';

export type { Todo };

/**
 * The demo users: alice and bob never see each other's private todos; alice, bob and carol
 * share a list (owner, editor, viewer) in the sharing walkthrough.
 */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;

/** Who is signed in. */
export interface Credentials {
  userId: string;
  token: string;
}

/** An open session. */
export interface Session {
  userId: string;
  deviceId: string;
  sync: SyncSystem;
  network: NetworkSwitch;
  todos: Collection<Todo>;
  /** Sets the CLIENT's conflict strategy for todos and remembers it for this user. */
  setTodoStrategy(strategy: ResolutionStrategy): void;
  close(): Promise<void>;
}

const CREDENTIALS_KEY = 'ferry-todo:credentials';
const OFFLINE_KEY = 'ferry-todo:forced-offline';
const strategyKey = (userId: string) => `ferry-todo:strategy:${userId}`;

/** Asks the server for a development token (`POST /v1/dev/token`, dev mode only) and remembers it. */
export async function signIn(userId: string): Promise<Credentials> {
  const response = await fetch('/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json', [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
    body: JSON.stringify({ userId }),
  });
  const body = (await response.json().catch(() => null)) as { token?: string; error?: { message?: string } } | null;
  if (!response.ok || !body?.token) {
    throw new Error(body?.error?.message ?? `Sign-in failed (HTTP ${response.status}); is the server in --dev mode?`);
  }
  const credentials = { userId, token: body.token };
  sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(credentials));
  return credentials;
}

/** The credentials of this tab, if it signed in before a reload. */
export function savedCredentials(): Credentials | null {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(CREDENTIALS_KEY) ?? 'null') as Credentials | null;
    return parsed && typeof parsed.userId === 'string' && typeof parsed.token === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Forgets the credentials (the local database stays, for the next sign-in on this tab). */
export function forgetCredentials(): void {
  sessionStorage.removeItem(CREDENTIALS_KEY);
}

/** The strategy for todos this user chose last, or `last-write-wins`. */
export function savedTodoStrategy(userId: string): ResolutionStrategy {
  const saved = localStorage.getItem(strategyKey(userId));
  return RESOLUTION_STRATEGIES.find((s) => s === saved) ?? 'last-write-wins';
}

/** Opens the local database of this user on this device and starts syncing. */
export async function openSession({ userId, token }: Credentials): Promise<Session> {
  const claim = await claimDevice(userId);
  const network = new NetworkSwitch(sessionStorage.getItem(OFFLINE_KEY) === '1');
  const unsubscribeOffline = network.forcedOffline.subscribe((off) => {
    if (off) sessionStorage.setItem(OFFLINE_KEY, '1');
    else sessionStorage.removeItem(OFFLINE_KEY);
  });
  try {
    const sync = await createSyncSystem({
      remoteAPI: new HttpRemoteAPI({ baseUrl: location.origin, getToken: () => token, fetch: network.fetch }),
      getToken: () => token,
      // Who owns the spaces this device creates (it is also the token's `sub`).
      userId,
      // Live pokes: another device's push reaches this one in well under a second.
      live: { url: liveUrlFrom(location.origin) },
      driver: await openBrowserDatabase(`${userId}:${claim.deviceId}`),
      // The store keeps the schema's indexes, and the todos collection is typed from it.
      schema: todoSchema,
      conflictStrategy: 'last-write-wins',
      entityStrategies: { todos: savedTodoStrategy(userId) },
      online: network.online,
      syncInterval: 30_000,
      writeDebounceMs: 150,
    });
    return {
      userId,
      deviceId: claim.deviceId,
      sync,
      network,
      todos: sync.collection('todos'),
      setTodoStrategy(strategy) {
        sync.conflictResolver.setStrategyForEntity('todos', strategy);
        localStorage.setItem(strategyKey(userId), strategy);
      },
      async close() {
        unsubscribeOffline();
        network.dispose();
        await sync.close();
        claim.release();
      },
    };
  } catch (error) {
    unsubscribeOffline();
    network.dispose();
    claim.release();
    throw error;
  }
}
