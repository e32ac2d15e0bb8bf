/**
 * What the scripts take from the Worker's configuration (wrangler.toml, read by wrangler itself): the
 * default models (vars.MODEL, vars.EMBED_MODEL), the R2 bucket bound as WEIGHTS, and local-only variables
 * (.dev.vars / .env).
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface WorkerConfig {
  configPath: string;
  /** vars.MODEL: "name" or "name@version". */
  model: string;
  /** The model's name (MODEL without a pinned version). */
  modelName: string;
  /** vars.EMBED_MODEL, the default of embed requests: "name" or "name@version"; MODEL when unset (as the Worker does). */
  embedModel: string;
  /** bucket_name of the R2 binding WEIGHTS. */
  bucket: string;
  vars: Record<string, string>;
}

export async function readWorkerConfig(configPath = join(REPO, "wrangler.toml")): Promise<WorkerConfig> {
  // wrangler takes a second or two to import: only when the config is needed
  const { unstable_readConfig } = await import("wrangler");
  const c = unstable_readConfig({ config: configPath });
  const vars = Object.fromEntries(Object.entries(c.vars ?? {}).map(([k, v]) => [k, String(v)]));
  const model = vars.MODEL;
  if (!model) throw new Error(`${configPath}: [vars] MODEL is not set (the default model)`);
  const binding = (c.r2_buckets ?? []).find((b: { binding: string; bucket_name?: string }) => b.binding === "WEIGHTS");
  if (!binding?.bucket_name) throw new Error(`${configPath}: no [[r2_buckets]] with binding = "WEIGHTS" and a bucket_name`);
  return { configPath, model, modelName: model.split("@")[0], embedModel: vars.EMBED_MODEL || model, bucket: binding.bucket_name, vars };
}

/** A default model of the Worker: which variable names it, its spec ("name" or "name@version"), its tasks. */
export interface DefaultModel {
  variable: "MODEL" | "EMBED_MODEL";
  spec: string;
  role: string;
}

/** The models a request without `model` reaches: MODEL, and EMBED_MODEL when it names another model. */
export function defaultModels(cfg: Pick<WorkerConfig, "model" | "modelName" | "embedModel">): DefaultModel[] {
  const out: DefaultModel[] = [{ variable: "MODEL", spec: cfg.model, role: "classify, fill-mask" }];
  if (cfg.embedModel.split("@")[0] !== cfg.modelName) out.push({ variable: "EMBED_MODEL", spec: cfg.embedModel, role: "embed" });
  return out;
}

/**
 * Variables wrangler dev adds from .dev.vars (or, when there is none, .env) in the project folder, parsed
 * by Node's own dotenv parser (util.parseEnv). Used to learn whether API_TOKEN is set locally.
 */
export function readDevVars(dir = REPO): { file: string | undefined; vars: Record<string, string> } {
  for (const name of [".dev.vars", ".env"]) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    const vars = parseEnv(readFileSync(file, "utf8")) as Record<string, string>;
    return { file: name, vars };
  }
  return { file: undefined, vars: {} };
}
