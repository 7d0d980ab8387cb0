import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, type Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/shared/runtime/metric-names.js';
import { STUBBED_MODULES } from '../bundling/stubbed-modules.js';
import { FUNCTION_FOLDER_METADATA, REPO_ROOT } from '../names.js';

/**
 * V8 heap flags every function runs with (its `NODE_OPTIONS`), and the bench's Prepare and Collect
 * workers too. Since Node 20 V8 sizes the young generation from the heap limit (nodejs/node#55487),
 * and Node 24's is larger: at 1 GiB Prepare peaked at 274 MiB and Collect at 234 MiB where Node 20
 * gave 169 and 121. A 16 MiB semi-space (Node 18's default) gives the streaming functions back
 * their bounded footprint (docs/benchmarks.md). Lambda's own bootstrap for older Node runtimes put
 * `--max-semi-space-size` (memory / 20) and `--max-old-space-size` (memory × 0.9) on the command
 * line, which would win over `NODE_OPTIONS` (Node's cli docs: "Options from the command line take
 * precedence"); what nodejs24.x does is to be read on a deployed function (`v8.getHeapSpaceStatistics()`).
 */
export const HEAP_NODE_OPTIONS = '--max-semi-space-size=16';

/** The service name every function logs and traces under (Powertools). */
export const POWERTOOLS_SERVICE_NAME = 'gemini-batch-pipeline';

/** `lambdas/<name>/handler.ts`, exporting `handler`: where a function's code lives. */
export function handlerEntry(name: string): string {
  return fileURLToPath(new URL(`../../lambdas/${name}/handler.ts`, import.meta.url));
}

/**
 * What a function runs when the stack was synthesized without bundling (context
 * `aws:cdk:bundling-stacks` excludes it: in-process test synths, or another stack being deployed).
 * Such a template is never deployed, so the code only needs to say so if it ever is.
 */
const UNBUNDLED_PLACEHOLDER =
  "exports.handler = async () => { throw new Error('this function was synthesized without bundling; deploy it with cdk deploy'); };";

/** Properties of a {@link PipelineFunction}. */
export interface PipelineFunctionProps {
  /**
   * The function's folder under `lambdas/`, kebab-case, named for its state (`prepare-requests` ↔
   * `Prepare Requests`). The code is `lambdas/<name>/handler.ts`, exporting `handler`.
   */
  readonly name: string;

  /** What the function does, in a few words; prefixed with the service name. */
  readonly description: string;

  /** How long one invocation may run. */
  readonly timeout: Duration;

  /**
   * Memory in MiB; CPU grows with it (1769 MiB is one full vCPU).
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Size of `/tmp`.
   *
   * @default - 512 MiB, Lambda's default
   */
  readonly ephemeralStorageSize?: Size;

  /**
   * Environment variables on top of the house defaults (Powertools service name and log level,
   * source maps). Never a secret: functions get a secret's ARN and read it at start.
   *
   * @default - the house defaults only
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Whether esbuild writes its metafile (`index.meta.json`, what every input contributes) beside
   * the bundle: for the bench's composition table, never for a deployment (it would ship in the zip).
   *
   * @default false
   */
  readonly bundleMetafile?: boolean;
}

/**
 * A Node.js Lambda function with the house defaults: `nodejs24.x` on arm64, bundled locally by
 * esbuild as minified ESM with source maps and the AWS SDK included (never Docker), modules the
 * functions never call replaced by stubs that throw (`infra/bundling/`), X-Ray tracing,
 * Powertools settings, its own log group with a retention, and its own role whose only initial
 * permission is writing to that log group (no `AWSLambdaBasicExecutionRole`, whose log actions
 * apply to every log group in the account).
 *
 * When the stack is synthesized with bundling skipped (`aws:cdk:bundling-stacks` excludes it),
 * nothing is bundled and the handler file need not exist: the template gets placeholder inline
 * code instead, which is fine because CDK never deploys a stack it did not bundle.
 */
export class PipelineFunction extends Construct implements iam.IGrantable {
  /** The function. */
  public readonly function: lambda.Function;

  /** The function's execution role. */
  public readonly role: iam.Role;

  /** Where the function logs. */
  public readonly logGroup: logs.LogGroup;

  public get grantPrincipal(): iam.IPrincipal {
    return this.role;
  }

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(props.name)) {
      throw new Error(`function name must be kebab-case (the folder under lambdas/), got '${props.name}'`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Operational logs only: requests and results live in the bucket, which is retained.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    const bundled = Stack.of(this).bundlingRequired;
    const entry = handlerEntry(props.name);
    if (bundled && !existsSync(entry)) {
      throw new Error(`function ${props.name} has no handler: expected ${entry} exporting 'handler'`);
    }

    this.function = new nodejs.NodejsFunction(this, 'Resource', {
      description: `${POWERTOOLS_SERVICE_NAME}: ${props.description}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 256,
      ephemeralStorageSize: props.ephemeralStorageSize,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Powertools Metrics' namespace; the code passes the same constant, the dashboard reads it.
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Source maps on in every function: without `keepNames` they are what makes a trace name
        // a source file and line. Nothing is paid until the first trace of a sandbox, which then
        // decodes the map: 0.1–0.3 s and +20–50 MiB on Node 24 (docs/benchmarks.md, bundles).
        NODE_OPTIONS: `--enable-source-maps ${HEAP_NODE_OPTIONS}`,
        ...props.environment,
      },
      ...(bundled
        ? {
            entry,
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
            bundling: {
              format: nodejs.OutputFormat.ESM,
              mainFields: ['module', 'main'],
              // CommonJS dependencies bundled into ESM may still call require() for built-ins.
              banner:
                "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
              minify: true,
              // No `keepNames`: its `__name()` calls were 57 kB of Poll's bundle, run at every cold
              // start to keep function names for stack traces, which the source map (enabled in
              // NODE_OPTIONS) already makes readable, to the line. Error names are literals
              // (lambdas/shared/errors.ts), never class names (docs/benchmarks.md, bundles).
              sourceMap: true,
              sourcesContent: false,
              // The runtime's SDK is a convenience set at a version AWS picks (lib-storage and
              // smithy helpers may be missing or differ): bundle the versions the tests ran.
              bundleAwsSDK: true,
              esbuildArgs: {
                // Modules loaded but never called, replaced by stubs that throw (infra/bundling/).
                '--alias': Object.entries(STUBBED_MODULES).map(([module, stub]) => `${module}=${stub}`),
                // Dependencies' license notices go beside the bundle (index.mjs.LEGAL.txt, in the
                // zip), not into the code every cold start parses.
                '--legal-comments': 'external',
              },
              metafile: props.bundleMetafile ?? false,
              forceDockerBundling: false,
            },
          }
        : { code: lambda.Code.fromInline(UNBUNDLED_PLACEHOLDER), handler: 'index.handler' }),
    });
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(FUNCTION_FOLDER_METADATA, props.name);
  }
}
