/** Worker entry: the Hono app wired to the real inference service. */
import { createApp } from "./app.ts";
// TODO(service): import { getService } from "./service/index.ts" once it exists, and delete the placeholder.
import { getService } from "./http/unconfigured-service.ts";

const app = createApp({ service: getService });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
