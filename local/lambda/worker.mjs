/**
 * One function's sandbox: a worker thread with its own `process.env` (the function's environment
 * from the template, nothing of the developer's shell) and its own module cache, as each Lambda
 * function has its own runtime. It loads the handler once (a cold start) and answers invocations
 * the way Lambda's Node.js runtime reports them: the handler's return value, or an error as
 * `{errorType, errorMessage, trace}` where `errorType` is the thrown error's `name`.
 *
 * Plain JavaScript, so a bundle from the cloud assembly runs here exactly as `cdk deploy` uploads
 * it. Source handlers (`.ts`) are loaded through tsx's loader, registered in this thread only.
 */
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';

const { file, exportName, typescript, functionName, functionArn, memorySizeMb, timeoutSeconds } = workerData;

if (typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}

/** @type {(event: unknown, context: object) => Promise<unknown>} */
let handler;
let loadError;
try {
  const module = await import(pathToFileURL(file).href);
  handler = module[exportName];
  if (typeof handler !== 'function') {
    loadError = Object.assign(new Error(`${file} exports no function named ${exportName}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
} catch (error) {
  // Lambda reports a module that fails to load as Runtime.ImportModuleError on every invocation.
  loadError = Object.assign(new Error(String(error?.stack ?? error)), { name: 'Runtime.ImportModuleError' });
}

/** What Lambda's runtime reports for a thrown value. */
function reported(error) {
  const isError = error instanceof Error;
  return {
    errorType: isError ? error.name : typeof error,
    errorMessage: isError ? error.message : String(error),
    trace: isError && typeof error.stack === 'string' ? error.stack.split('\n') : [],
  };
}

/**
 * This isolate's memory at its highest, sampled while it runs and sent with every answer, so the
 * runner can say which sandbox held what (RSS is the process's, shared by every sandbox).
 */
const peak = { usedHeapBytes: 0, committedHeapBytes: 0, externalBytes: 0 };
function memorySoFar() {
  const heap = getHeapStatistics();
  peak.usedHeapBytes = Math.max(peak.usedHeapBytes, heap.used_heap_size);
  peak.committedHeapBytes = Math.max(peak.committedHeapBytes, heap.total_heap_size);
  peak.externalBytes = Math.max(peak.externalBytes, heap.external_memory);
  return { ...peak };
}
setInterval(memorySoFar, 100).unref();

parentPort.on('message', async ({ id, event, requestId }) => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: String(memorySizeMb),
    awsRequestId: requestId,
    invokedFunctionArn: functionArn,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    if (loadError) throw loadError;
    const result = await handler(event, context);
    parentPort.postMessage({ id, result: result === undefined ? null : result, memory: memorySoFar() });
  } catch (error) {
    parentPort.postMessage({ id, error: reported(error), memory: memorySoFar() });
  }
});
parentPort.postMessage({ ready: true, memory: memorySoFar() });
