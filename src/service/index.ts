/**
 * The Worker's inference service, one per isolate (module scope): loaded models, their kernel memory and
 * block caches outlive requests and are treated as a cache that may vanish with the isolate.
 */
import simd128 from "../../wasm/build/kernels.wasm";
import relaxed from "../../wasm/build/kernels-relaxed.wasm";
import { DEFAULT_KERNEL_BUILD, chooseKernelModule } from "../kernel/index.ts";
import { WorkerInferenceService } from "./inference.ts";
import { type ServiceEnv, serviceOptions as optionsFor } from "./options.ts";
import { ModelRegistry, type RegistryOptions } from "./registry.ts";
import type { InferenceService } from "./types.ts";

export { DEFAULTS, type ServiceEnv } from "./options.ts";

/** The registry's options for this Worker's bindings and variables, with the Workers Cache API. */
// both kernel builds are bundled; feature detection (WebAssembly.validate) picks one per isolate
const kernel = chooseKernelModule({ simd128, relaxed }, DEFAULT_KERNEL_BUILD);

export function serviceOptions(env: ServiceEnv): Omit<RegistryOptions, "kernelModule"> {
  return optionsFor(env, () => caches.default);
}

let current: { bucket: ServiceEnv["WEIGHTS"]; key: string; service: InferenceService } | undefined;

export function getService(env: ServiceEnv): InferenceService {
  const key = [env.MODEL, env.EMBED_MODEL, env.CACHE_MB, env.READ_TIMEOUT_MS, env.CACHE_API, env.CACHE_API_MAX_OPS].map((v) => v ?? "").join("|");
  if (!current || current.bucket !== env.WEIGHTS || current.key !== key) {
    current = { bucket: env.WEIGHTS, key, service: new WorkerInferenceService(new ModelRegistry({ ...serviceOptions(env), kernelModule: kernel.module, kernelBuild: kernel.build })) };
  }
  return current.service;
}
