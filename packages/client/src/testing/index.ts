/**
 * @ferry/client/testing (this repository's tests only; not published): the contract every
 * local store must pass, run over a driver, and virtual timers for the engine.
 */
export { ManualTimers } from './ManualTimers.js';
export * from './storeContract.js';
