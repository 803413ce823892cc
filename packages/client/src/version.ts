/** The Ferry SDK's version, reported to the server (`ferry-device: sdk=…`) and in `sync.diagnostics()`. */
export const SDK_VERSION = '0.1.0';
