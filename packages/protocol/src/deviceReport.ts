/**
 * The optional `ferry-device` request header: what only the device knows (its outbox depth,
 * dead letters, last error code, app and SDK versions), carried on the sync requests it sends
 * anyway, so an operator sees it without a new round trip.
 *
 *   ferry-device: id=c_abc;outbox=12;dead=1;err=NETWORK_ERROR;app=1.2.3;sdk=0.1.0
 *
 * Parsed strictly: a header that is too long, repeats a key, names an unknown key or holds a
 * value outside its pattern is ignored as a whole (never an error: it is advice, not input).
 */
export const DEVICE_HEADER = 'ferry-device';

/** Longest header accepted, in characters. */
export const DEVICE_HEADER_MAX_LENGTH = 256;

/** What a device reports about itself; every field optional. */
export interface DeviceReport {
  /** The device's client id. */
  id?: string;
  /** Changes waiting in the outbox. */
  outbox?: number;
  /** Changes in the dead-letter list. */
  dead?: number;
  /** Code of the last sync error (a `SyncError` code), when the last cycle failed. */
  err?: string;
  /** The app's version. */
  app?: string;
  /** The Ferry SDK's version. */
  sdk?: string;
}

const COUNT = /^\d{1,9}$/;
const TOKEN = /^[A-Za-z0-9._+-]{1,64}$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const PATTERNS: Readonly<Record<keyof DeviceReport, RegExp>> = {
  id: TOKEN,
  outbox: COUNT,
  dead: COUNT,
  err: CODE,
  app: TOKEN,
  sdk: TOKEN,
};

/** The header value for `report`; fields that would not parse back are left out. */
export function formatDeviceReport(report: DeviceReport): string {
  const parts: string[] = [];
  for (const key of Object.keys(PATTERNS) as Array<keyof DeviceReport>) {
    const value = report[key];
    if (value === undefined) continue;
    const text = String(value);
    if (PATTERNS[key].test(text)) parts.push(`${key}=${text}`);
  }
  return parts.join(';');
}

/** The report in a header value, or null when it is absent or malformed in any way. */
export function parseDeviceReport(header: unknown): DeviceReport | null {
  if (typeof header !== 'string' || header.length === 0 || header.length > DEVICE_HEADER_MAX_LENGTH) return null;
  const report: Record<string, string | number> = {};
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) return null;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (!Object.hasOwn(PATTERNS, key) || Object.hasOwn(report, key)) return null;
    const pattern = PATTERNS[key as keyof DeviceReport];
    if (!pattern.test(value)) return null;
    report[key] = pattern === COUNT ? Number(value) : value;
  }
  return report as DeviceReport;
}
