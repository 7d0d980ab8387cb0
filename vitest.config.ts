import { defineConfig } from 'vitest/config';

/** Contract and workflow tests start real servers; give them room on a 2-core machine. */
export const serverTestTimeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    ...serverTestTimeouts,
    projects: [
      {
        // Not test/s3-clients: the S3 clients a machine may lack, run by `npm run test:s3-clients`.
        extends: true,
        test: {
          name: 'source',
          include: ['test/**/*.test.ts'],
          exclude: ['test/bundle/**', 'test/s3-clients/**'],
        },
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
