import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  resolve: {
    // @users-api/client is linked from ../../clients/js, whose node_modules holds a React of
    // its own for its tests; one React in the bundle, or hooks fail. Not needed when the
    // package comes from npm.
    dedupe: ['react', 'react-dom'],
  },
  server: {
    // The page asks its own origin for /api/…; in development Vite passes that on to the Node
    // route (server/index.mjs, `npm run server`). `vite preview` uses the same proxy. In
    // production, route /api to that server on your host (or serve both from one origin).
    proxy: {
      '/api': process.env.EXAMPLE_API_SERVER ?? 'http://127.0.0.1:3001',
    },
  },
});
