import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Component tests opt into a DOM with a `@vitest-environment jsdom` comment at their top.
    restoreMocks: true,
    unstubEnvs: true,
    unstubGlobals: true,
  },
});
