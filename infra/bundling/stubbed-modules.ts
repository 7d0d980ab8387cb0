/**
 * Dependencies the functions load but never call, replaced in their bundles by stubs that throw
 * (esbuild `--alias`). Each stub's file says why its module is never called; the bundled workflow
 * suite runs every state on these bundles, and `test/bundle/bundle-contents.test.ts` fails if one
 * of these modules, or what only it brought in, comes back.
 */
import { fileURLToPath } from 'node:url';

/** Package name → the stub the bundles get instead. */
export const STUBBED_MODULES: Readonly<Record<string, string>> = {
  'google-auth-library': stubPath('google-auth-library'),
  ws: stubPath('ws'),
  semver: stubPath('semver'),
  '@aws-sdk/credential-provider-node': stubPath('credential-provider-node'),
  'p-retry': stubPath('p-retry'),
};

/** `infra/bundling/<name>.stub.ts`, named for the package without its scope. */
function stubPath(name: string): string {
  return fileURLToPath(new URL(`./${name}.stub.ts`, import.meta.url));
}
