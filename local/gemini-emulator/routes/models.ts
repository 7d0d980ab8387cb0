import { GoogleApiError } from '../api-error.js';
import { paginate, type Route, sendJson } from '../http.js';
import { type ModelCatalogue, modelNotFoundMessage, modelResource } from '../model-catalogue.js';

const VERSION = '(v\\d+[a-z0-9]*)';

export interface ModelsDeps {
  readonly catalogue: ModelCatalogue;
}

/**
 * The Models API: `GET models/{model}` and `GET models` (paged like every Gemini listing: no
 * `nextPageToken` on the last page). Retired and unknown models are 404, in Google's words.
 */
export function modelRoutes({ catalogue }: ModelsDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: new RegExp(`^/${VERSION}/models$`),
      endpoint: 'models.list',
      handle: (ctx) => {
        // Google's documented default page size for models.list is 50, its maximum 1000.
        const { page, nextPageToken } = paginate(catalogue.list(), ctx.url, 50, 1000);
        sendJson(ctx.res, 200, {
          models: page.map(modelResource),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${VERSION}/models/([^/:]+)$`),
      endpoint: 'models.get',
      handle: (ctx) => {
        const id = ctx.params[1] ?? '';
        const model = catalogue.find(id);
        if (model === undefined) {
          // The method name Google puts in this message for a get is an assumption.
          throw new GoogleApiError(404, modelNotFoundMessage(id, ctx.params[0] ?? 'v1beta', 'getModel'));
        }
        sendJson(ctx.res, 200, modelResource(model));
      },
    },
  ];
}
