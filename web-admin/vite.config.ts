import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is served by the users-api binary from web-admin/dist (same origin as the API).
// In development, `npm run dev` proxies the API to USERS_API_URL (default http://127.0.0.1:3000).
const api = process.env.USERS_API_URL ?? 'http://127.0.0.1:3000';
const proxied = ['/v1', '/auth', '/openapi.json', '/docs', '/health', '/ready'];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    emptyOutDir: true,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: api, changeOrigin: false }])),
  },
});
