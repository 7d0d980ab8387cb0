/**
 * What a stub module throws: a stub replaces, in the bundles only, a dependency the functions load
 * but never call (see `stubbed-modules.ts`). Should a code path ever reach one, the function fails
 * loudly with the module's name rather than doing something else quietly.
 */
export class StubbedModuleError extends Error {
  constructor(module: string, member: string) {
    super(
      `${module} (${member}) is stubbed out of this bundle because the functions never call it ` +
        '(infra/bundling/stubbed-modules.ts); a code path that needs it must un-stub it',
    );
    this.name = 'StubbedModuleError';
  }
}
