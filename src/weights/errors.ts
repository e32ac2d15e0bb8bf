/**
 * The one error type of the weights room. `code` is stable (the CLI and the HTTP layer map it); the
 * message names the file, segment, tensor or field and gives both the actual and the expected value.
 */
export type PackageErrorCode =
  | "bad_package" // manifest.json or weights.bin that does not follow docs/format.md
  | "version" // a package written by a newer format version
  | "integrity" // bytes whose sha256 differs from the manifest
  | "bad_checkpoint" // a checkpoint folder (safetensors, config, tokenizer) that cannot be converted
  | "bad_safetensors" // a safetensors file that does not parse
  | "io" // a read that returned fewer bytes than asked, or failed
  | "bad_argument"; // a caller error (tile or block index out of range, unknown tensor, bad option)

export class PackageError extends Error {
  readonly code: PackageErrorCode;
  constructor(code: PackageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PackageError";
    this.code = code;
  }
}

/** Thrown when bytes read from a package do not hash to the manifest's sha256. */
export class IntegrityError extends PackageError {
  /** What was read, e.g. `fff.3 tree 0 tile 17` or `dense`. */
  readonly what: string;
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super("integrity", `${what}: sha256 ${actual}, manifest says ${expected}`);
    this.name = "IntegrityError";
    this.what = what;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Runs a verified read once more when its bytes fail their sha256 (a transient corruption), then gives up. */
export async function withOneRetry<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof IntegrityError)) throw e;
    return read();
  }
}
