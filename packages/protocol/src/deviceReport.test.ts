import { describe, expect, it } from 'vitest';
import { DEVICE_HEADER_MAX_LENGTH, formatDeviceReport, parseDeviceReport } from './deviceReport.js';

describe('the ferry-device header', () => {
  it('round-trips a full report', () => {
    const report = { id: 'c_1-x', outbox: 12, dead: 1, err: 'NETWORK_ERROR', app: '1.2.3', sdk: '0.1.0' };
    const header = formatDeviceReport(report);
    expect(header).toBe('id=c_1-x;outbox=12;dead=1;err=NETWORK_ERROR;app=1.2.3;sdk=0.1.0');
    expect(parseDeviceReport(header)).toEqual(report);
  });

  it('leaves out what would not parse back when formatting', () => {
    expect(formatDeviceReport({ outbox: -3, app: 'my app; v2', err: 'oops', sdk: '0.1.0' })).toBe('sdk=0.1.0');
  });

  it.each([
    ['an unknown key', 'outbox=1;token=abc'],
    ['a repeated key', 'outbox=1;outbox=2'],
    ['a negative count', 'outbox=-1'],
    ['a fractional count', 'dead=1.5'],
    ['a lower-case error code', 'err=network'],
    ['a part without "="', 'outbox'],
    ['an empty value', 'app='],
    ['spaces inside a value', 'app=1 2'],
    ['a header past the length limit', `app=${'1'.repeat(DEVICE_HEADER_MAX_LENGTH)}`],
    ['a prototype key', '__proto__=1'],
    ['an empty header', ''],
  ])('ignores a header with %s as a whole', (_case, header) => {
    expect(parseDeviceReport(header)).toBeNull();
  });

  it('ignores anything but a string', () => {
    expect(parseDeviceReport(['outbox=1'])).toBeNull();
    expect(parseDeviceReport(undefined)).toBeNull();
  });
});
