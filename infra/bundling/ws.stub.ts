/**
 * Stands in for `ws` in the bundles. `@google/genai` opens a WebSocket only for the Live API
 * (`ai.live.connect`), which a batch pipeline never calls.
 */
import { StubbedModuleError } from './never-called.js';

export class WebSocket {
  constructor() {
    throw new StubbedModuleError('ws', 'WebSocket');
  }
}
