/**
 * The S3 clients installed on this machine (aws CLI, s3cmd) against the local S3: `npm run
 * test:s3-clients` and `.ci/run`, never `npm test` or a bare `vitest run`, which a developer
 * without them must be able to run clean (the root config leaves this folder out).
 */
import { defineConfig } from 'vitest/config';
import { serverTestTimeouts } from '../../vitest.config.js';

export default defineConfig({
  test: { ...serverTestTimeouts, name: 's3-clients', include: ['test/s3-clients/**/*.test.ts'] },
});
