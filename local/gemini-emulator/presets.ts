import type { GeminiEmulatorOptions } from './options.js';

/**
 * Every intermittent Gemini quirk on, at modest seeded rates, for a suite that must survive them
 * all (the constant quirks are on by default anyway). Seeded by `seed`, so a failing run replays.
 * Spread it and add your own settings; to add faults, keep the preset's:
 * `startGeminiEmulator({ ...ROUGH_GEMINI, faults: [...(ROUGH_GEMINI.faults ?? []), mine] })`.
 * `emulator.faults.clear()` removes the preset's faults too.
 */
export const ROUGH_GEMINI: GeminiEmulatorOptions = {
  roughness: {
    // js-genai #1191, python-genai #2008: inline answers without their key.
    inlineMetadataDropRate: 0.1,
  },
  faults: [
    // langchain4j PR #3942: the generic quota 429 on reads and listings as well as creates.
    { kind: 'http-error', endpoint: '*', status: 429, rate: 0.03 },
    // python-genai #1901: 429 on create with enqueued tokens below the published limits.
    { kind: 'http-error', endpoint: 'batches.create', status: 429, rate: 0.1 },
    { kind: 'http-error', endpoint: 'batches.createEmbeddings', status: 429, rate: 0.1 },
    // python-genai #1248, #1590: the final upload answer without its `file`.
    { kind: 'upload-no-file', rate: 0.1 },
    // js-genai (TODO b/401391430): "Failed to upload file: Upload status is not finalized."
    { kind: 'upload-not-final', rate: 0.1 },
    // google-gemini/cookbook #1008: `application/jsonl` "works inconsistently".
    { kind: 'refuse-mime-type', mimeType: 'application/jsonl', rate: 0.2 },
  ],
};
