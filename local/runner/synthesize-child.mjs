/**
 * Synthesizes the stack in a process of its own (`synthesize-apart.ts` starts it): the template
 * alone, or the cloud assembly with its bundles when given an output folder. Writes the template as
 * JSON to the file named in its argument, then exits, taking aws-cdk-lib's memory with it.
 *
 * Plain JavaScript that registers tsx itself, as the functions' sandboxes do (`local/lambda/worker.mjs`),
 * so it starts with no loader flags whatever Node runs it.
 */
import { writeFile } from 'node:fs/promises';

const { templateFile, assemblyDir } = JSON.parse(process.argv[2] ?? '{}');
const { register } = await import('tsx/esm/api');
register();
const { synthesizeCloudAssembly, synthesizePipelineTemplate } = await import('../template/synthesize.ts');
const template =
  assemblyDir === undefined ? synthesizePipelineTemplate() : synthesizeCloudAssembly(assemblyDir);
await writeFile(templateFile, JSON.stringify(template));
