import { describe, expect, it } from 'vitest';
import { backoffDelay, liveUrlFrom, resolveWebSocketFactory } from './webSocket.js';

describe('backoffDelay', () => {
  it('doubles from the base delay and stops at the cap', () => {
    const full = (attempt: number) => backoffDelay(attempt, 1000, 30_000, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(full)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(full(10_000)).toBe(30_000);
  });

  it('keeps jitter between half and all of the delay, even with a broken random source', () => {
    expect(backoffDelay(3, 1000, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, 30_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(3, 1000, 30_000, () => -5)).toBe(2000);
    expect(backoffDelay(3, 1000, 30_000, () => 7)).toBe(4000);
  });
});

describe('liveUrlFrom', () => {
  it('swaps the scheme and keeps a path prefix', () => {
    expect(liveUrlFrom('http://127.0.0.1:8787')).toBe('ws://127.0.0.1:8787/v1/live');
    expect(liveUrlFrom('https://sync.example.com/api/')).toBe('wss://sync.example.com/api/v1/live');
  });
});

describe('resolveWebSocketFactory', () => {
  it('says what to pass when the platform has no global WebSocket', () => {
    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    delete global.WebSocket;
    try {
      expect(() => resolveWebSocketFactory(undefined)).toThrow(/pass `webSocket:/);
    } finally {
      if (saved !== undefined) global.WebSocket = saved;
    }
  });
});
