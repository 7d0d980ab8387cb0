/**
 * The local S3 with the S3 clients people run from a shell, installed on this machine rather than
 * from the npm registry: the aws CLI and s3cmd (Debian packages `awscli`, `s3cmd`). Each copies a
 * 0-byte file and a multipart one up and back down, and lists them. Not in `npm test`, so a
 * developer without them is not failed for it: `npm run test:s3-clients` runs this file, and
 * `.ci/run` installs what is missing first. A client that is missing fails here, by name.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/runner/local-aws.js';
import { useLocalS3 } from '../support/local-s3-server.js';

const BUCKET = 'local-s3-system-clients';
const MIB = 1024 * 1024;
const local = useLocalS3(BUCKET);

/** Runs `command` asynchronously: the server runs in this process, and a blocking call would starve it. */
async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    return (await promisify(execFile)(command, args, { encoding: 'utf8', env: { ...process.env, ...env } }))
      .stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `${command} is not installed: apt-get install ${command === 'aws' ? 'awscli' : command}`,
      );
    }
    throw error;
  }
}

/** Writes a 0-byte file and a `mib` MiB one whose every MiB tells its index, so a misordered part shows. */
async function files(name: string, mib: number) {
  const empty = join(local.directory, `${name}-empty`);
  const big = join(local.directory, `${name}-big`);
  await writeFile(empty, '');
  await writeFile(big, Buffer.concat(Array.from({ length: mib }, (_, i) => Buffer.alloc(MIB, i))));
  return { empty, big };
}

/** The `size name` pairs of a listing, whichever client printed it and in whatever columns. */
const sizes = (listing: string) =>
  listing
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map((fields) => `${fields.at(-2)} ${fields.at(-1)?.split('/').at(-1)}`)
    .sort();

describe('the local S3 with the aws CLI', () => {
  const aws = (...args: string[]) =>
    run('aws', ['--endpoint-url', local.address, ...args], {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: LOCAL_REGION,
    });

  it('copies a 0-byte file and a 20 MiB file (multipart: 8 MiB parts) up and back down, and lists them', async () => {
    const { empty, big } = await files('cli', 20);
    await aws('s3', 'cp', empty, `s3://${BUCKET}/cli/empty`);
    await aws('s3', 'cp', big, `s3://${BUCKET}/cli/big`);
    await aws('s3', 'cp', `s3://${BUCKET}/cli/big`, `${big}.back`);
    await aws('s3', 'cp', `s3://${BUCKET}/cli/empty`, `${empty}.back`);
    expect((await readFile(`${big}.back`)).equals(await readFile(big))).toBe(true);
    expect((await readFile(`${empty}.back`)).length).toBe(0);
    expect(sizes(await aws('s3', 'ls', `s3://${BUCKET}/cli/`))).toEqual(
      ['0 empty', `${20 * MIB} big`].sort(),
    );
  });
});

describe('the local S3 with s3cmd', () => {
  let config: string;
  beforeAll(async () => {
    // Path-style (no %(bucket)s in host_bucket), plain HTTP, signature v4 in the local region.
    const { host } = new URL(local.address);
    config = join(local.directory, 's3cmd.cfg');
    await writeFile(
      config,
      [
        '[default]',
        `access_key = ${LOCAL_CREDENTIALS.accessKeyId}`,
        `secret_key = ${LOCAL_CREDENTIALS.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        `bucket_location = ${LOCAL_REGION}`,
        'use_https = False',
        'signature_v2 = False',
        '',
      ].join('\n'),
    );
  });
  const s3cmd = (...args: string[]) => run('s3cmd', ['--config', config, ...args]);

  it('puts a 0-byte file and a 12 MiB file (multipart: 5 MiB parts), gets them back, and lists them', async () => {
    const { empty, big } = await files('s3cmd', 12);
    await s3cmd('put', empty, `s3://${BUCKET}/s3cmd/empty`);
    const upload = await s3cmd(
      'put',
      '--progress',
      '--multipart-chunk-size-mb=5',
      big,
      `s3://${BUCKET}/s3cmd/big`,
    );
    expect(upload).toContain('part 3 of 3');
    await s3cmd('get', `s3://${BUCKET}/s3cmd/big`, `${big}.back`);
    await s3cmd('get', `s3://${BUCKET}/s3cmd/empty`, `${empty}.back`);
    expect((await readFile(`${big}.back`)).equals(await readFile(big))).toBe(true);
    expect((await readFile(`${empty}.back`)).length).toBe(0);
    expect(sizes(await s3cmd('ls', `s3://${BUCKET}/s3cmd/`))).toEqual(['0 empty', `${12 * MIB} big`].sort());
  });
});
