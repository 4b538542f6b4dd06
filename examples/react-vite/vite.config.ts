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
});
