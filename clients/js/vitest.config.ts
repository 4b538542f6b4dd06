import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Docs samples import the package by its published name; in tests that name means src/.
    alias: [
      { find: /^@users-api\/client\/react$/, replacement: source('./src/react/index.ts') },
      { find: /^@users-api\/client\/server$/, replacement: source('./src/server/index.ts') },
      { find: /^@users-api\/client$/, replacement: source('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    // React tests opt into a DOM with a `@vitest-environment jsdom` comment at their top.
    restoreMocks: true,
    unstubEnvs: true,
    unstubGlobals: true,
  },
});
