#!/usr/bin/env node
// The `gemini-batch` command (package.json `bin`): runs the TypeScript CLI through tsx's loader,
// as `npm start` runs local/cli.ts, so there is no build step between a checkout and the command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
