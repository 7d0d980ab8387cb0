/** The AWS account, region and names the local runner gives its stand-ins for AWS. */
import { SYNTH_ACCOUNT, SYNTH_REGION } from '../template/synth-target.js';

export const LOCAL_REGION = SYNTH_REGION;
export const LOCAL_ACCOUNT = SYNTH_ACCOUNT;
/** The local S3 checks no signature, but the SDK signs every request. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_BUCKET = 'gemini-batch-local';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:GeminiBatchPipeline`;

/**
 * The secret holding the Gemini key offline, served by the Secrets Manager stand-in
 * (`aws-stand-ins.ts`); named as Secrets Manager names one, with its six random characters.
 */
export const LOCAL_GEMINI_KEY_SECRET_ARN = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:gemini-api-key-local0`;

/** The ARN Step Functions gives the execution `name` of the state machine `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The ARN Lambda gives the function `name`, as its context reports it (`invokedFunctionArn`). */
export function functionArnOf(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
}

/** The admission queue's table offline (dynalite wants names of 3 characters or more). */
export const LOCAL_ADMISSION_TABLE = 'gemini-batch-admission';
