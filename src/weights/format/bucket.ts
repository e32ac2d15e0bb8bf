/**
 * Where packages live in a bucket (R2, or the local one of `npm run dev`), defined once for the Worker's
 * registry and the upload scripts:
 *
 *   models/<name>/<version>/{manifest.json, tokenizer.json, weights.bin}   one immutable version
 *   models/<name>/current                                                 the version a bare name means
 *
 * Writers put weights.bin and tokenizer.json first, manifest.json next and `current` last, so a reader that
 * finds a pointer finds a complete version.
 */

/** Model names and versions: 1–64 characters of [A-Za-z0-9._-], starting with a letter or digit. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Prefix of every model (list it with delimiter "/" to get the names). */
export const MODELS_PREFIX = "models/";

export type PackageFileName = "weights.bin" | "tokenizer.json" | "manifest.json";

export const versionPrefix = (name: string, version: string): string => `${MODELS_PREFIX}${name}/${version}`;
export const objectKey = (name: string, version: string, file: PackageFileName): string => `${versionPrefix(name, version)}/${file}`;
export const currentKey = (name: string): string => `${MODELS_PREFIX}${name}/current`;
/** The model name of a delimited prefix `models/<name>/` of a list. */
export const nameOfPrefix = (prefix: string): string => prefix.slice(MODELS_PREFIX.length, -1);
