import { inject } from 'vitest';
import {
  type LocalPipeline,
  type LocalPipelineOptions,
  startLocalPipeline,
} from '../../local/local-pipeline.js';

/**
 * The local pipeline on the code under test: the functions' bundles in the `bundled` project (what
 * deploys), their source in the `source` project.
 */
export function startTestPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const assemblyDir = inject('cloudAssemblyDir');
  return startLocalPipeline({
    ...options,
    ...(assemblyDir ? { code: 'bundled' as const, assemblyDir } : { code: 'source' as const }),
  });
}
