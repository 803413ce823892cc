import type { Change } from '@ferry/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeBytes, changeFromJson, pushBodyBytes, pushRequestJson, utf8Length } from './pushBody.js';

const changeArb: fc.Arbitrary<Change> = fc.record({
  id: fc.string({ minLength: 1 }),
  entityType: fc.constantFrom('todos', 'notes'),
  entityId: fc.string({ minLength: 1, unit: 'grapheme' }),
  operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
  data: fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.boolean()))),
  timestamp: fc.nat(),
  hlc: fc.constant('001732550000000-000000-dev-a'),
  version: fc.nat(),
  vector: fc.dictionary(fc.string({ minLength: 1 }), fc.nat()),
  clientId: fc.constant('dev-a'),
}) as fc.Arbitrary<Change>;

describe('push bodies', () => {
  it('counts UTF-8 bytes as Node does, lone surrogates as U+FFFD', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }),
        (text, units) => {
          expect(utf8Length(text)).toBe(Buffer.byteLength(text));
          expect(utf8Length(units)).toBe(Buffer.byteLength(units));
        },
      ),
    );
  });

  it('sends the body JSON.stringify would, whether or not its changes were sized, and of the size computed', () => {
    fc.assert(
      fc.property(fc.array(changeArb, { maxLength: 5 }), fc.array(fc.boolean(), { maxLength: 5 }), (input, sized) => {
        // Some changes come from their stored JSON (as the push reads them), the others as objects.
        const read = input.map((change, index) => (sized[index] ? changeFromJson(JSON.stringify(change)) : undefined));
        const changes = input.map((change, index) => read[index]?.change ?? change);
        const sizes = changes.map((change, index) => read[index]?.bytes ?? changeBytes(change));
        const request = { clientId: 'dev-a', changes };
        const json = pushRequestJson(request);
        expect(json).toBe(JSON.stringify(request));
        expect(pushBodyBytes('dev-a', sizes)).toBe(Buffer.byteLength(json));
      }),
    );
  });

  it('serialises any other request shape as it comes', () => {
    const request = { changes: [], clientId: 'dev-a', extra: 1 } as unknown as Parameters<typeof pushRequestJson>[0];
    expect(pushRequestJson(request)).toBe(JSON.stringify(request));
  });
});
