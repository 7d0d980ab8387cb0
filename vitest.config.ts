import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Contract and workflow tests start real servers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'source', include: ['test/**/*.test.ts'], exclude: ['test/bundle/**'] },
      },
      {
        // What deploys: the workflow suite again, and the bundle's own tests, on the functions'
        // bundles from a cloud assembly synthesized once with bundling, as `cdk deploy` builds it.
        extends: true,
        test: {
          name: 'bundled',
          include: ['test/workflow/**/*.test.ts', 'test/bundle/**/*.test.ts'],
          globalSetup: ['test/support/cloud-assembly-setup.ts'],
        },
      },
    ],
  },
});
