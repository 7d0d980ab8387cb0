/**
 * The functions' X-Ray traces, through Powertools Tracer: the skeleton opens the handler's
 * subsegment (`captureLambdaHandler`), each AWS SDK client is captured (`captureAWSv3Client`), and
 * each call of the Gemini port gets a subsegment of its own. Tracer turns itself off outside Lambda
 * (no `AWS_EXECUTION_ENV`: tests, the local runner), where every wrapper here returns what it is given
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/features/tracer/).
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

/** The one Tracer of a function; its service annotation is `POWERTOOLS_SERVICE_NAME`. */
export const tracer = new Tracer();

/** An AWS SDK v3 client whose calls are subsegments of the invocation's trace. */
export function tracedAwsClient<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/**
 * A port whose every method call is a subsegment named `<name>.<method>` (`Gemini.createBatch`), with
 * the error as metadata when it throws. Responses are not recorded: an inline job's answers are
 * request data, which stays out of traces as it stays out of logs. Calls may overlap: each runs in
 * its own X-Ray context (`captureAsyncFunc`), as Powertools' `captureMethod` does.
 */
export function tracedPort<Port extends object>(name: string, port: Port): Port {
  if (!tracer.isTracingEnabled()) return port;
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) =>
        tracer.provider.captureAsyncFunc(`${name}.${property}`, async (subsegment) => {
          try {
            return await value.apply(target, args);
          } catch (error) {
            tracer.addErrorAsMetadata(error as Error);
            throw error;
          } finally {
            subsegment?.close();
          }
        });
    },
  });
}
