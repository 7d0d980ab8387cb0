/**
 * Reading a stream's first bytes ahead without losing them: how Prepare looks at an upload's
 * encoding before it reads a line.
 */

/** A stream whose first bytes have been read ahead: `body` still yields every byte, from the first. */
export interface PeekedStream {
  /** At least `bytes` bytes, unless the stream is shorter. */
  readonly head: Uint8Array;
  readonly body: AsyncIterable<Uint8Array>;
  /** Releases the source (an S3 response's socket) when `body` will not be read. */
  close(): Promise<void>;
}

/** Reads the first `bytes` bytes of a stream without losing them, e.g. to recognise its encoding. */
export async function peekStream(source: AsyncIterable<Uint8Array>, bytes: number): Promise<PeekedStream> {
  const iterator = source[Symbol.asyncIterator]();
  const early: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    // Copied: a source may reuse its buffer for the next chunk.
    early.push(Uint8Array.prototype.slice.call(next.value));
    size += next.value.length;
  }
  const head = Buffer.concat(early).subarray(0, bytes);
  const release = async () => {
    if (ended) return;
    ended = true;
    await iterator.return?.();
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    // The source is released however reading stops: at its end, on an error, or by the reader.
    try {
      yield* early;
      while (!ended) {
        const next = await iterator.next();
        if (next.done) ended = true;
        else yield next.value;
      }
    } finally {
      await release();
    }
  }
  return { head, body: body(), close: release };
}
