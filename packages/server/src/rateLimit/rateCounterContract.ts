import { afterEach, describe, expect, it } from 'vitest';
import type { RateCounter } from './RateCounter.js';

/** A counter under test and how to release what it holds. */
export interface RateCounterFixture {
  counter: RateCounter;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const W0 = 1_732_549_980_000; // a multiple of a minute

/**
 * The contract every {@link RateCounter} passes: counts per key and per window, exact under
 * concurrency, and forgets windows older than the previous one.
 */
export function runRateCounterContract(name: string, open: () => Promise<RateCounterFixture>): void {
  describe(`${name} (rate counter contract)`, () => {
    let fixture: RateCounterFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });
    const counter = async () => {
      fixture = await open();
      return fixture.counter;
    };

    it('counts hits per key within a window', async () => {
      const c = await counter();
      expect(await c.hit('push:alice', W0, MINUTE)).toBe(1);
      expect(await c.hit('push:alice', W0, MINUTE)).toBe(2);
      expect(await c.hit('push:bob', W0, MINUTE)).toBe(1);
      expect(await c.hit('pull:alice', W0, MINUTE)).toBe(1);
      expect(await c.hit('push:alice', W0, MINUTE)).toBe(3);
    });

    it('starts every window from zero', async () => {
      const c = await counter();
      await c.hit('push:alice', W0, MINUTE);
      await c.hit('push:alice', W0, MINUTE);
      expect(await c.hit('push:alice', W0 + MINUTE, MINUTE)).toBe(1);
      expect(await c.hit('push:alice', W0 + 2 * MINUTE, MINUTE)).toBe(1);
    });

    it('gives concurrent hits distinct totals, none lost', async () => {
      const c = await counter();
      const totals = await Promise.all(Array.from({ length: 40 }, () => c.hit('push:carol', W0, MINUTE)));
      expect([...totals].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it('treats keys as opaque text', async () => {
      const c = await counter();
      const odd = 'push:o\'brien"; DROP TABLE x; --ü';
      expect(await c.hit(odd, W0, MINUTE)).toBe(1);
      expect(await c.hit(odd, W0, MINUTE)).toBe(2);
      expect(await c.hit('push:o', W0, MINUTE)).toBe(1);
    });
  });
}
