/**
 * Entry with no optional peer installed (NetInfo, background fetch, AsyncStorage, op-sqlite
 * and expo-sqlite all absent): the root of @ferry/react-native must still bundle, its
 * optional peers loaded only on first use. The expo-sqlite subpath too: it wraps the
 * database the app opened and never imports expo-sqlite itself.
 */
import type { SqlDriver } from '@ferry/react-native';
import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
import { AppRegistry } from 'react-native';
import { App } from './App';

const openDriver = async (): Promise<SqlDriver> => {
  throw new Error('not run: this app only proves the bundle');
};

function Root() {
  return <App openDriver={openDriver} />;
}

export { createExpoSqliteDriver };

AppRegistry.registerComponent('FerryBundle', () => Root);
