/**
 * The model's hyperparameters are the package's config (validated when the manifest is parsed); the
 * derived FFF sizes are defined with it, in the format room.
 */
import type { PackageConfig } from "../weights/format/config.ts";

export { fffLevels, fffNodesPerTree } from "../weights/format/config.ts";
export type ModelConfig = PackageConfig;
export type Pooler = NonNullable<PackageConfig["pooler"]>;
