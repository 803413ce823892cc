/** Browser entry: react-native-web renders the app the way AppRegistry does on a device. */
import { AppRegistry } from 'react-native';
import { App } from './App';

// The offline shell (a production build only): a reload works with no network at all.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => undefined);
}

AppRegistry.registerComponent('FerryTodo', () => App);
AppRegistry.runApplication('FerryTodo', { rootTag: document.getElementById('root') });
