// The web console's build (issue 14): `npm run build:console` (run by `npm install` through `prepare`, and by
// `npm start`/`npm test`) writes console/dist, which Switchboard serves at /console/. Nothing is loaded from a CDN.
// A second page, phone/index.html (the browser softphone, issue 13), lands in dist/phone/ and is served at /phone/;
// both pages share the assets in dist/assets/ (under /console/assets/).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  build: {
    outDir: 'dist', emptyOutDir: true, sourcemap: false,
    rollupOptions: { input: { console: resolve(import.meta.dirname, 'index.html'), phone: resolve(import.meta.dirname, 'phone/index.html') } },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
