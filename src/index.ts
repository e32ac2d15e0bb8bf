/** Worker entry: the Hono app wired to the inference service of this isolate. */
import { createApp } from "./app.ts";
import { getService } from "./service/index.ts";

const app = createApp({ service: getService });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
