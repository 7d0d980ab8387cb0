/**
 * The first check `npm start -- FILE` makes, before it loads anything heavy: that FILE is a file
 * (the trigger rule's check is in `trigger-check.ts`).
 */
import { stat } from 'node:fs/promises';

/** Why `path` cannot be run, or undefined when it is a file that can be read. */
export async function fileProblem(path: string): Promise<string | undefined> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    return info.code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${info.message}`;
  }
  if (info.isDirectory()) return `${path} is a directory: give one .jsonl file`;
  if (!info.isFile()) return `${path} is not a regular file: give one .jsonl file`;
  return undefined;
}
