import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app: Preact (JSX through esbuild, no plugin needed), built to dist/web, which the
// Nest service serves at /. No CDN, no inline scripts (helmet's CSP allows 'self' only).
const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
