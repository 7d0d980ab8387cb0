import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Contract and workflow tests start real servers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'source',
          include: ['test/**/*.test.ts'],
          exclude: ['test/bundle/**', 'test/s3-clients/**'],
        },
      },
      {
        // The S3 clients installed on the machine (aws CLI, s3cmd) against the local S3: outside
        // `npm test` (a developer may not have them), run by `npm run test:s3-clients` and `.ci/run`.
        extends: true,
        test: { name: 's3-clients', include: ['test/s3-clients/**/*.test.ts'] },
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
