// Two apps, one build: the storefront (index.html, served at /) and the
// admin dashboard (admin/index.html, served at /admin/), into web/dist.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        storefront: resolve(import.meta.dirname, 'index.html'),
        admin: resolve(import.meta.dirname, 'admin/index.html'),
        // GraphiQL, served by the gateway at GET /graphql (not a storefront
        // page: the storefront's budget does not see it).
        graphiql: resolve(import.meta.dirname, 'graphiql/index.html'),
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/graphql': 'http://127.0.0.1:8080' } },
});
