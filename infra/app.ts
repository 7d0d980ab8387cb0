#!/usr/bin/env node
/**
 * The CDK app: the only place that reads the environment and context. Everything else takes
 * typed config (`infra/config.ts`).
 *
 *   npx cdk deploy                                       # a new secret with a placeholder key
 *   npx cdk deploy -c geminiApiKeySecretName=my/gemini   # an existing secret
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appConfig } from './config.js';
import { GeminiBatchPipelineStack } from './gemini-batch-pipeline-stack.js';

const app = new App();
const config = appConfig({ env: process.env, context: (key) => app.node.tryGetContext(key) });

new GeminiBatchPipelineStack(app, config.stackId, { env: config.env, config: config.pipeline });

// cdk-nag 3 is a validation plugin: findings fail the synth unless acknowledged one by one
// (the construct acknowledges its own, each with its reason).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
