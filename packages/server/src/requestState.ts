import type { FastifyRequest } from 'fastify';
import type { ObservedRequest } from './observability/requestOutcome.js';

/** What the server's hooks learn about one request as it goes (auth, timing, outcome). */
export interface RequestState {
  /** `performance.now()` when the request arrived. */
  startedAt: number | undefined;
  /** The authenticated scope (the token's `sub`), once the auth hook checked the token. */
  scope: string | undefined;
  /** The verified token's claims. */
  claims: Readonly<Record<string, unknown>>;
  /** Counts and ids the observability hooks noted. */
  note: ObservedRequest | undefined;
}

// One object under a symbol, not a WeakMap per fact: WeakMap entries are ephemerons, which
// every young-generation GC must trace, and four of them per request added up. No global type
// augmentation either, and the state dies with the request.
const STATE = Symbol('ferry.requestState');
const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

type Carrier = FastifyRequest & { [STATE]?: RequestState };

/** The state of `request`, created on first use. */
export function requestState(request: FastifyRequest): RequestState {
  const carrier = request as Carrier;
  let state = carrier[STATE];
  if (state === undefined) {
    state = { startedAt: undefined, scope: undefined, claims: NO_CLAIMS, note: undefined };
    carrier[STATE] = state;
  }
  return state;
}
