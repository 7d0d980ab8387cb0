import { GoogleApiError } from '../api-error.js';
import { API_VERSION_PATTERN, type Route, sendJson, sendPage } from '../http.js';
import { type ModelCatalogue, modelNotFoundMessage, modelResource } from '../model-catalogue.js';

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
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/models$`),
      endpoint: 'models.list',
      handle: (ctx) => {
        // Google's documented default page size for models.list is 50, its maximum 1000.
        sendPage(ctx, {
          field: 'models',
          items: catalogue.list(),
          render: modelResource,
          defaultSize: 50,
          maxSize: 1000,
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/models/([^/:]+)$`),
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
