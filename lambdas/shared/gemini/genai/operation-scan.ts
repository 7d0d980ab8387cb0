/**
 * Reads a batch operation from a byte stream without holding its inline answers together: how a
 * poll stays a small read even when Gemini ignores a `fields` mask and sends a big inline batch's
 * answers twice.
 */
import { GeminiRequestError, GeminiUnavailableError } from '../../errors.js';
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
} from '../../json.js';

/**
 * Bounds on what one read of an operation holds in memory. Operations are streamed through
 * {@link scanOperation}: the envelope (everything but inline answers: names, state, counts) is
 * kept, up to {@link MAX_OPERATION_ENVELOPE_BYTES}; each inline answer is held alone, up to
 * {@link MAX_INLINE_ANSWER_BYTES} (the bound Collect applies to a result line); the answers of
 * one copy kept together, up to `MAX_INLINE_ANSWERS_BYTES` (see `operation-read.ts`). Submit sizes
 * inline batches so their answers are estimated well below this (`DEFAULT_INLINE_MAX_ANSWER_BYTES`,
 * 32 MiB for both copies). File downloads stream to disk and are not an in-memory read.
 */
export const MAX_OPERATION_ENVELOPE_BYTES = 4 * 1024 * 1024;
/** See {@link MAX_OPERATION_ENVELOPE_BYTES}. */
const MAX_INLINE_ANSWER_BYTES = 64 * 1024 * 1024;

export interface OperationScan {
  /** The operation without its inline answers (each answer array is left empty). */
  readonly operation: unknown;
}

/** Where a scan sends the inline answers it finds. */
export interface ScanAnswers {
  /** An answer array starts under the operation's top-level member `copy` (`metadata`, `response`). */
  start(copy: string): void;
  /** One answer, as the JSON text Gemini sent. */
  add(copy: string, text: string): void;
}

/** A member name longer than this is no name the scan looks for. */
const MAX_MEMBER_NAME_BYTES = 64;
/** Arrays under a member of this name hold inline answers: kept out of the envelope. */
const ANSWERS_MEMBER = 'inlinedResponses';
/** Arrays under a member of this name would hold inline requests, if Gemini echoed them: skipped. */
const REQUESTS_MEMBER = 'requests';

interface Frame {
  readonly array: boolean;
  /** Of an object: the member whose value comes next. */
  member: string | undefined;
  /** Of an object: a string here would be a member name. */
  expectMember: boolean;
  /** The operation's top-level member this container is under. */
  readonly copy: string | undefined;
}

/** Containers inside answers: only their depth matters. */
const INNER: Frame = { array: false, member: undefined, expectMember: false, copy: undefined };

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
const copyOf = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes);
const text = (pieces: readonly Uint8Array[]): string => Buffer.concat(pieces).toString('utf8');

/**
 * Reads an operation from a byte stream without holding its inline answers together: every array
 * under a member named `inlinedResponses` is cut out of the envelope (left as `[]`), and each of
 * its elements is handed to `answers` alone (or skipped, without answers). Arrays under `requests`
 * (inline requests, should Gemini ever echo `inputConfig` back) are cut out and skipped. Memory is the envelope
 * (at most {@link MAX_OPERATION_ENVELOPE_BYTES}) plus one answer (at most
 * {@link MAX_INLINE_ANSWER_BYTES}), whatever the operation's size — so a read stays small even when
 * Gemini ignores a `fields` mask and sends both copies of a big inline batch's answers.
 */
export async function scanOperation(
  source: AsyncIterable<Uint8Array>,
  answers?: ScanAnswers,
): Promise<OperationScan> {
  const stack: Frame[] = [];
  const envelope: Uint8Array[] = [];
  let envelopeBytes = 0;
  let inString = false;
  let escaped = false;
  let memberName: number[] | undefined;
  /** Depth of the answer array being cut out, or -1. */
  let cutDepth = -1;
  let cutCopy = '';
  /** Whether the array being cut holds answers (handed over) or requests (skipped). */
  let cutAnswers = false;
  let item:
    | { kind: 'container' | 'string' | 'scalar'; pieces: Uint8Array[]; bytes: number; from: number }
    | undefined;

  const keep = (bytes: Uint8Array) => {
    envelopeBytes += bytes.length;
    if (envelopeBytes > MAX_OPERATION_ENVELOPE_BYTES) {
      throw new GeminiUnavailableError(
        `Gemini's operation passes ${MAX_OPERATION_ENVELOPE_BYTES} bytes without its answers: not a batch operation`,
      );
    }
    envelope.push(copyOf(bytes));
  };

  for await (const chunk of source) {
    /** Where the envelope's next piece starts in this chunk, or -1 while inside an answer array. */
    let from = cutDepth < 0 ? 0 : -1;
    if (item) item.from = 0;
    const end = (at: number) => {
      if (!item) return;
      item.pieces.push(chunk.subarray(item.from, at));
      const answer = text(item.pieces);
      item = undefined;
      answers?.add(cutCopy, answer);
    };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          if (memberName) {
            const top = stack[stack.length - 1];
            if (top) top.member = memberNameOf(memberName);
            memberName = undefined;
            continue;
          }
          if (item?.kind === 'string' && stack.length === cutDepth) end(i + 1);
          continue;
        }
        if (memberName && memberName.length <= MAX_MEMBER_NAME_BYTES) memberName.push(byte);
        continue;
      }
      if (item?.kind === 'scalar' && (byte === COMMA || byte === CLOSE_ARRAY || isSpace(byte))) end(i);
      const top = stack[stack.length - 1];
      const startsAnswer =
        cutAnswers && answers !== undefined && item === undefined && stack.length === cutDepth;
      switch (byte) {
        case QUOTE:
          inString = true;
          if (cutDepth < 0 && top && !top.array && top.expectMember) memberName = [];
          else if (startsAnswer) item = { kind: 'string', pieces: [], bytes: 0, from: i };
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY: {
          if (startsAnswer) item = { kind: 'container', pieces: [], bytes: 0, from: i };
          if (cutDepth >= 0) {
            stack.push(INNER);
            break;
          }
          const member = top && !top.array ? top.member : undefined;
          const copy = stack.length === 1 ? member : top?.copy;
          stack.push({
            array: byte === OPEN_ARRAY,
            member: undefined,
            expectMember: byte === OPEN_OBJECT,
            copy,
          });
          if (byte === OPEN_ARRAY && (member === ANSWERS_MEMBER || member === REQUESTS_MEMBER)) {
            cutDepth = stack.length;
            cutCopy = copy ?? '';
            cutAnswers = member === ANSWERS_MEMBER;
            keep(chunk.subarray(from, i + 1));
            from = -1;
            if (cutAnswers) answers?.start(cutCopy);
          }
          break;
        }
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (stack.length === cutDepth) {
            cutDepth = -1;
            from = i;
          }
          stack.pop();
          if (item?.kind === 'container' && stack.length === cutDepth) end(i + 1);
          break;
        case COLON:
          if (top && !top.array) top.expectMember = false;
          break;
        case COMMA:
          if (top && !top.array) top.expectMember = true;
          break;
        default:
          if (startsAnswer && !isSpace(byte)) item = { kind: 'scalar', pieces: [], bytes: 0, from: i };
      }
    }
    if (from >= 0) keep(chunk.subarray(from));
    if (item) {
      const rest = chunk.subarray(item.from);
      item.bytes += rest.length;
      if (item.bytes > MAX_INLINE_ANSWER_BYTES) {
        throw new GeminiRequestError(
          `an inline answer passes ${MAX_INLINE_ANSWER_BYTES} bytes, more than a read may hold`,
        );
      }
      item.pieces.push(copyOf(rest));
    }
  }
  if (stack.length > 0 || inString || item) {
    throw new GeminiUnavailableError(
      "Gemini's answer ended in the middle of the operation (a cut-off response)",
    );
  }
  try {
    return { operation: JSON.parse(text(envelope)) };
  } catch (error) {
    throw new GeminiUnavailableError(`Gemini's answer is not a JSON operation: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function memberNameOf(bytes: readonly number[]): string | undefined {
  if (bytes.length > MAX_MEMBER_NAME_BYTES) return undefined;
  try {
    return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
  } catch {
    return undefined;
  }
}

/** Scans an HTTP answer's body with {@link scanOperation}. */
export async function scanResponse(response: Response, answers?: ScanAnswers): Promise<OperationScan> {
  if (!response.body) return { operation: await response.json() };
  return scanOperation(response.body as AsyncIterable<Uint8Array>, answers);
}
