/** Write clocks live in `@ferry/protocol`, shared with the server's arbitration. */
export {
  compareClocks,
  compareTiedStates,
  fieldClock,
  laterHlc,
  latestClock,
  recordClock,
  type WriteClock,
} from '@ferry/protocol';
