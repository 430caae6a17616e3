// The web console's build (issue 14): `npm run build:console` (run by `npm install` through `prepare`, and by
// `npm start`/`npm test`) writes console/dist, which Switchboard serves at /console/. Nothing is loaded from a CDN.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
