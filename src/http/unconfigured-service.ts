/**
 * Placeholder until src/service/index.ts exports `getService(env)`: every inference call answers
 * 503 weights_unavailable, while /healthz and /openapi.json work. src/index.ts imports this file;
 * switch that import to "./service/index.ts" and delete this file.
 */
import { ServiceError, type InferenceService } from "../service/types.ts";

export async function getService(_env: Env): Promise<InferenceService> {
  throw new ServiceError("weights_unavailable", "no model configured");
}
