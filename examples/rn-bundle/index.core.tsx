/**
 * Entry with no optional peer installed (NetInfo, background fetch, AsyncStorage, op-sqlite
 * and expo-sqlite all absent): the root of @ferry/react-native must still bundle, its
 * optional peers loaded only on first use.
 */
import type { SqlDriver } from '@ferry/react-native';
import { AppRegistry } from 'react-native';
import { App } from './App';

const openDriver = async (): Promise<SqlDriver> => {
  throw new Error('not run: this app only proves the bundle');
};

function Root() {
  return <App openDriver={openDriver} />;
}

AppRegistry.registerComponent('FerryBundle', () => Root);
