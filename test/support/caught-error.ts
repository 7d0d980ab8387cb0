/** What a call throws, for tests that inspect the error itself; fails if the call does not throw. */
export function caughtError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}
