import { describe, expect, it } from 'vitest';
import { parseConflictsFlag, UsageError } from './runServe.js';

describe('ferry serve --conflicts', () => {
  it('reads type=strategy pairs separated by commas', () => {
    expect(parseConflictsFlag('todos=merge, notes = last-write-wins')).toEqual({
      todos: 'merge',
      notes: 'last-write-wins',
    });
  });

  it('refuses anything else with a usage error naming the bad pair', () => {
    expect(() => parseConflictsFlag('todos:merge')).toThrow(UsageError);
    expect(() => parseConflictsFlag('todos=merge,,')).toThrow(/got ""/);
  });
});
