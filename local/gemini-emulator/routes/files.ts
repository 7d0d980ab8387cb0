import { createReadStream } from 'node:fs';
import { invalidArgument } from '../api-error.js';
import type { EmulatorClock } from '../clock.js';
import type { FaultInjector } from '../fault-injector.js';
import { type FileStore, fileResource, UPLOAD_GRANULARITY_BYTES } from '../file-store.js';
import {
  API_VERSION_PATTERN,
  type RequestContext,
  type Route,
  readJsonBody,
  sendJson,
  sendPage,
} from '../http.js';
import { readField } from '../json-fields.js';

const FILE_ID = '([a-z0-9-]+)';

export interface FilesDeps {
  readonly files: FileStore;
  readonly faults: FaultInjector;
  readonly clock: EmulatorClock;
  readonly maxRequestBytes: number;
  /** MIME types refused at upload start, lower case or not (python-genai #1547). */
  readonly refusedMimeTypes: readonly string[];
}

/**
 * Uploads whose finalizing chunk was answered without a `x-goog-upload-status` header, by upload id:
 * the SDK re-sends that chunk, and each re-send is answered the same way. Bounded, oldest first out.
 */
const MAX_UNFINALIZED = 256;

/** Routes of the Files API, including the resumable upload protocol the SDK speaks. */
export function fileRoutes({ files, faults, clock, maxRequestBytes, refusedMimeTypes }: FilesDeps): Route[] {
  const refused = new Set(refusedMimeTypes.map((type) => type.trim().toLowerCase()));
  const unfinalized = new Set<string>();

  const render = (ctx: RequestContext, name: string) => {
    const apiVersion = ctx.params[0] ?? 'v1beta';
    return fileResource(files.get(name), ctx.baseUrl, apiVersion, clock);
  };

  const startUpload = async (ctx: RequestContext) => {
    const { req, res, baseUrl } = ctx;
    const apiVersion = ctx.params[0] ?? 'v1beta';
    const command = String(req.headers['x-goog-upload-command'] ?? '').toLowerCase();
    if (req.headers['x-goog-upload-protocol'] !== 'resumable' || command !== 'start') {
      throw invalidArgument(
        'Only resumable uploads are supported: send X-Goog-Upload-Protocol: resumable with X-Goog-Upload-Command: start.',
      );
    }
    const body = await readJsonBody(req, maxRequestBytes);
    const file = readField(body, 'file') ?? {};
    const declaredHeader = req.headers['x-goog-upload-header-content-length'];
    const sizeBytes = Number(declaredHeader ?? readField(file, 'sizeBytes'));
    const mimeType = String(
      readField(file, 'mimeType') ??
        req.headers['x-goog-upload-header-content-type'] ??
        'application/octet-stream',
    );
    // Google's answer to python-genai #1547's `mime_type='jsonl'`, and now and then to
    // `application/jsonl` (cookbook #1008), in its 400 INVALID_ARGUMENT shape.
    if (refused.has(mimeType.trim().toLowerCase()) || faults.takeMimeTypeRefusal(mimeType)) {
      throw invalidArgument(`Unsupported MIME type: ${mimeType}`);
    }
    const name = readField(file, 'name');
    const displayName = readField(file, 'displayName');
    const uploadId = files.startUpload({
      sizeBytes,
      mimeType,
      ...(typeof name === 'string' ? { name: name.startsWith('files/') ? name : `files/${name}` } : {}),
      ...(typeof displayName === 'string' ? { displayName } : {}),
    });
    const uploadUrl = `${baseUrl}/upload/${apiVersion}/files?upload_id=${uploadId}&upload_protocol=resumable`;
    sendJson(
      res,
      200,
      {},
      {
        'x-goog-upload-status': 'active',
        'x-goog-upload-url': uploadUrl,
        'x-goog-upload-control-url': uploadUrl,
        'x-goog-upload-chunk-granularity': String(UPLOAD_GRANULARITY_BYTES),
      },
    );
  };

  const uploadChunk = async (ctx: RequestContext) => {
    const { req, res, url } = ctx;
    const uploadId = url.searchParams.get('upload_id') ?? '';
    const commands = String(req.headers['x-goog-upload-command'] ?? '')
      .toLowerCase()
      .split(',')
      .map((part) => part.trim());
    if (commands.includes('query')) {
      sendJson(
        res,
        200,
        {},
        {
          'x-goog-upload-status': 'active',
          'x-goog-upload-size-received': String(files.uploadProgress(uploadId)),
        },
      );
      return;
    }
    if (!commands.includes('upload') && !commands.includes('finalize')) {
      throw invalidArgument(`Unsupported X-Goog-Upload-Command '${commands.join(', ')}'.`);
    }
    if (unfinalized.has(uploadId)) {
      // A re-send of a chunk answered without an upload status: the same non-answer again (the
      // bytes are stored already; the server drains the body after answering).
      sendJson(res, 200, {});
      return;
    }
    const offset = Number(req.headers['x-goog-upload-offset']);
    if (!Number.isSafeInteger(offset))
      throw invalidArgument('X-Goog-Upload-Offset is required on upload chunks.');
    // Reading the body to its end or breaking off detaches it from the socket: keep hold of the socket.
    const { socket } = req;
    const outcome = await files.appendChunk(
      uploadId,
      offset,
      commands.includes('finalize'),
      req,
      faults.takeUploadInterruption(),
    );
    if (outcome.status === 'interrupted') {
      socket.destroy();
      return;
    }
    if (outcome.status === 'active') {
      sendJson(
        res,
        200,
        {},
        { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(outcome.received) },
      );
      return;
    }
    const spoiled = faults.takeUploadAnswerFault();
    if (spoiled?.kind === 'upload-no-file') {
      // python-genai #1248, #1590: HTTP 200, final, but no `file`; the file exists all the same.
      sendJson(res, 200, {}, { 'x-goog-upload-status': 'final' });
      return;
    }
    if (spoiled?.kind === 'upload-not-final') {
      const status = spoiled.status ?? 'cancelled';
      if (status === 'absent') {
        unfinalized.add(uploadId);
        if (unfinalized.size > MAX_UNFINALIZED)
          unfinalized.delete(unfinalized.values().next().value as string);
      }
      sendJson(res, 200, {}, status === 'absent' ? {} : { 'x-goog-upload-status': status });
      return;
    }
    sendJson(res, 200, { file: render(ctx, outcome.file.name) }, { 'x-goog-upload-status': 'final' });
  };

  const download = (ctx: RequestContext) => {
    const file = files.get(`files/${ctx.params[1]}`);
    ctx.res.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.sizeBytes });
    createReadStream(file.path).pipe(ctx.res);
  };

  return [
    {
      method: 'POST',
      pattern: new RegExp(`^/upload/${API_VERSION_PATTERN}/files$`),
      when: (url) => url.searchParams.has('upload_id'),
      endpoint: 'files.uploadChunk',
      handle: uploadChunk,
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/upload/${API_VERSION_PATTERN}/files$`),
      endpoint: 'files.upload',
      handle: startUpload,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/files$`),
      endpoint: 'files.list',
      handle: (ctx) => {
        sendPage(ctx, {
          field: 'files',
          items: files.list(),
          render: (file) => render(ctx, file.name),
          defaultSize: 10,
          maxSize: 100,
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/files/${FILE_ID}:download$`),
      endpoint: 'files.download',
      handle: download,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/download/${API_VERSION_PATTERN}/files/${FILE_ID}:download$`),
      endpoint: 'files.download',
      handle: download,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/files/${FILE_ID}$`),
      endpoint: 'files.get',
      handle: (ctx) => sendJson(ctx.res, 200, render(ctx, `files/${ctx.params[1]}`)),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/files/${FILE_ID}$`),
      endpoint: 'files.delete',
      handle: async (ctx) => {
        await files.delete(`files/${ctx.params[1]}`);
        sendJson(ctx.res, 200, {});
      },
    },
  ];
}
