/**
 * The model's hyperparameters are the package's config (validated when the manifest is parsed);
 * these helpers name the derived FFF sizes.
 */
import type { PackageConfig } from "../weights/index.ts";

export type ModelConfig = PackageConfig;
export type Pooler = NonNullable<PackageConfig["pooler"]>;

/** Levels of a tree = nodes a token visits per tree (D + 1). */
export const fffLevels = (c: ModelConfig) => c.fffDepth + 1;
/** Nodes per tree, 2^(D+1) − 1. */
export const fffNodesPerTree = (c: ModelConfig) => 2 ** (c.fffDepth + 1) - 1;
