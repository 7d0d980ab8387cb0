/** dynalite 4 ships no types: the one call the local runner makes (https://github.com/architect/dynalite#readme). */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Milliseconds a new table stays CREATING. @default 500 */
    readonly createTableMs?: number;
    /** LevelDB directory. @default - in memory */
    readonly path?: string;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
