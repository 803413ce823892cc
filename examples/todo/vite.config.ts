/**
 * Builds the Todo demo for the browser: React Native primitives rendered by react-native-web,
 * Ferry's packages compiled from source. `npm run dev` proxies the API to a local `ferry serve`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Emits `sw.js`, the offline shell, with the list of every built file to precache. */
function offlineShell(): Plugin {
  return {
    name: 'ferry-todo-offline-shell',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((file) => file !== 'index.html')
        .map((file) => `/${file}`);
      const template = readFileSync(new URL('./sw/serviceWorker.js', import.meta.url), 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: template.replace('= __PRECACHE__;', `= ${JSON.stringify(files)};`),
      });
    },
  };
}

export default defineConfig(({ mode }) => ({
  // JSX through esbuild, without @vitejs/plugin-react: installed at the root, that plugin finds the
  // root's vite 8 (vitest's), takes this vite 7 for rolldown-vite and breaks the dev server.
  plugins: [offlineShell()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'react' },
  resolve: {
    alias: [
      { find: /^react-native$/, replacement: 'react-native-web' },
      { find: /^@ferry\/protocol$/, replacement: repo('packages/protocol/src/index.ts') },
      { find: /^@ferry\/client$/, replacement: repo('packages/client/src/index.ts') },
      { find: /^@ferry\/client\/engine$/, replacement: repo('packages/client/src/engine.ts') },
      { find: /^@ferry\/client\/protocol$/, replacement: repo('packages/client/src/protocol.ts') },
      { find: /^@ferry\/react-native$/, replacement: repo('packages/react-native/src/index.ts') },
    ],
    // react-native-web convention: platform files first.
    extensions: ['.web.tsx', '.web.ts', '.web.jsx', '.web.js', '.tsx', '.ts', '.jsx', '.mjs', '.js', '.json'],
  },
  define: {
    __DEV__: JSON.stringify(mode !== 'production'),
    global: 'globalThis',
  },
  optimizeDeps: {
    // Optional native peers @ferry/react-native requires lazily; the web demo never loads them.
    exclude: ['@react-native-community/netinfo', 'react-native-background-fetch'],
    esbuildOptions: { resolveExtensions: ['.web.js', '.web.ts', '.web.tsx', '.js', '.ts', '.tsx', '.jsx'] },
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8787', ws: true },
      '/health': 'http://127.0.0.1:8787',
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      onwarn(warning, warn) {
        // react-native-web marks its modules "use client" (for React Server Components): moot here.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
}));
