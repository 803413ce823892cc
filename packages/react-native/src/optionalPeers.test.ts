import { describe, expect, it, jest } from '@jest/globals';

// An app without the optional peers: requiring either fails as it does when it is not installed.
jest.mock('react-native-background-fetch', () => {
  throw new Error("Cannot find module 'react-native-background-fetch'");
});
jest.mock('@react-native-community/netinfo', () => {
  throw new Error("Cannot find module '@react-native-community/netinfo'");
});

const { loadBackgroundFetch, loadNetInfo } =
  jest.requireActual<typeof import('./optionalPeers.ts')>('./optionalPeers.ts');

describe('optional peers that are not installed', () => {
  it('fail only when used, with an error that says what to install', () => {
    expect(() => loadBackgroundFetch()).toThrow(
      'Background sync needs react-native-background-fetch: install it (npx expo install react-native-background-fetch)',
    );
    expect(() => loadNetInfo()).toThrow('connectNetInfo needs @react-native-community/netinfo: install it');
    try {
      loadNetInfo();
    } catch (error) {
      expect((error as Error).cause).toMatchObject({ message: expect.stringContaining('Cannot find module') });
    }
  });
});
