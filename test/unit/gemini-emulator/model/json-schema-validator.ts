import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Compiles a JSON Schema (draft 2020-12) with ajv in strict mode. The project does not depend on
 * ajv-formats, so the handful of formats the sampler emits are registered with simple patterns.
 */
export function compileJsonSchema(schema: object): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+\.[^@\s]+$/);
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return ajv.compile(schema);
}

/** Asserts-by-message helper: returns ajv's error list as text ('' when valid) for readable failures. */
export function validationErrors(validate: ValidateFunction, value: unknown): string {
  return validate(value) ? '' : JSON.stringify(validate.errors);
}

/**
 * Converts a Gemini OpenAPI-subset `Schema` to JSON Schema so ajv can check values against it:
 * types are lower-cased, `nullable: true` adds `"null"` to the type, and Gemini-only keywords
 * (`propertyOrdering`, Gemini formats such as `enum` or `int32`) are dropped.
 */
export function geminiToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiToJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type') converted.type = String(value).toLowerCase();
    else if (key === 'properties') {
      converted.properties = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, child]) => [
          name,
          geminiToJsonSchema(child),
        ]),
      );
    } else if (key === 'items' || key === 'anyOf') converted[key] = geminiToJsonSchema(value);
    else if (key === 'format') {
      if (value === 'date-time') converted.format = value;
    } else if (key !== 'nullable' && key !== 'propertyOrdering') converted[key] = value;
  }
  if ((schema as Record<string, unknown>).nullable === true && typeof converted.type === 'string') {
    converted.type = [converted.type, 'null'];
  }
  return converted;
}
