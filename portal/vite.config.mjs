// Vite builds the portal into portal/dist; the hub serves that folder at `/` (src/http/portal.ts).
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    // The budget is the first page (~300 KB gzipped); ECharts is split into its own lazy chunk.
    chunkSizeWarningLimit: 700,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite portal` during development: the API is the hub on :4000.
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true }, '/auth': 'http://localhost:4000', '/thumbnails': 'http://localhost:4000', '/previews': 'http://localhost:4000', '/files': 'http://localhost:4000', '/submissions': 'http://localhost:4000' },
  },
});
