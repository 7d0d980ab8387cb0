/**
 * How a core writes a log line, as a dependency: the handler passes the Powertools logger's
 * method (`lambdas/shared/runtime/logger.ts`), tests pass a spy or nothing, and the core never
 * imports a logger itself.
 */

/** One structured log line: a message and its fields (correlation keys and counts, never request bodies). */
export type Log = (message: string, fields: Record<string, unknown>) => void;
