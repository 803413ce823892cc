import { describe, expect, it } from 'vitest';
import { Emitter } from './Emitter.js';

describe('Emitter', () => {
  it('calls listeners in order, and one removed during an emit still hears that emit', () => {
    const emitter = new Emitter<number>();
    const heard: string[] = [];
    let stopSecond = () => {};
    emitter.subscribe((n) => {
      heard.push(`first ${n}`);
      stopSecond();
    });
    stopSecond = emitter.subscribe((n) => heard.push(`second ${n}`));
    emitter.emit(1);
    emitter.emit(2);
    expect(heard).toEqual(['first 1', 'second 1', 'first 2']);
    expect(emitter.size).toBe(1);
  });

  it('passes a listener error to the caller, unless told to isolate listeners', () => {
    const loud = new Emitter<void>();
    loud.subscribe(() => {
      throw new Error('listener bug');
    });
    expect(() => loud.emit()).toThrow('listener bug');

    const quiet = new Emitter<void>({ isolateErrors: true });
    let after = 0;
    quiet.subscribe(() => {
      throw new Error('listener bug');
    });
    quiet.subscribe(() => after++);
    expect(() => quiet.emit()).not.toThrow();
    expect(after).toBe(1);
  });
});
