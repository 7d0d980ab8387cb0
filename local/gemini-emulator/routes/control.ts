import { invalidArgument } from '../api-error.js';
import type { EmulatorClock } from '../clock.js';
import type { FaultInjector } from '../fault-injector.js';
import type { Fault } from '../faults.js';
import { type Route, readJsonBody, sendJson } from '../http.js';

export interface ControlDeps {
  readonly clock: EmulatorClock;
  readonly faults: FaultInjector;
}

/**
 * The emulator's own routes under `/_emulator/`, for tests and tools that run it out of process:
 * move the clock, add and clear faults. Not part of Gemini's API; they need no key.
 */
export function controlRoutes({ clock, faults }: ControlDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/_emulator\/health$/,
      public: true,
      handle: ({ res }) => sendJson(res, 200, { status: 'ok', emulated: true, time: clock.iso() }),
    },
    {
      method: 'POST',
      pattern: /^\/_emulator\/clock:advance$/,
      public: true,
      handle: async ({ req, res }) => {
        const body = (await readJsonBody(req, 1024)) as { ms?: unknown };
        if (typeof body.ms !== 'number')
          throw invalidArgument('Send {"ms": <milliseconds to move the clock forward>}.');
        try {
          clock.advance(body.ms);
        } catch (error) {
          throw invalidArgument((error as Error).message);
        }
        sendJson(res, 200, { time: clock.iso() });
      },
    },
    {
      method: 'GET',
      pattern: /^\/_emulator\/faults$/,
      public: true,
      handle: ({ res }) => sendJson(res, 200, { faults: faults.list() }),
    },
    {
      method: 'POST',
      pattern: /^\/_emulator\/faults$/,
      public: true,
      handle: async ({ req, res }) => {
        const fault = (await readJsonBody(req, 64 * 1024)) as Fault;
        try {
          sendJson(res, 200, { id: faults.add(fault) });
        } catch (error) {
          throw invalidArgument((error as Error).message);
        }
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/_emulator\/faults$/,
      public: true,
      handle: ({ res }) => {
        faults.clear();
        sendJson(res, 200, {});
      },
    },
  ];
}
