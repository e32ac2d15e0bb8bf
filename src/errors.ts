/**
 * The one error type of the project. Every error we throw is a `UfbError` with a stable `code`; which
 * HTTP status and public message a code gets is decided in one place, src/http/problem.ts (`ERRORS`).
 * Messages name the file, segment, tensor or field and give the actual and the expected value: they are
 * shown to clients only for 4xx codes (the request's own fault); for 5xx they go to the log.
 */
export type ErrorCode =
  // the request's fault (4xx; the message is for the client)
  | "model_not_found" // no such model name or version
  | "invalid_input" // ids, mask, positions or texts that do not fit the model (e.g. no <mask> for fill-mask)
  | "unsupported_task" // a task the model cannot serve (fill-mask on a classifier, classify on an MLM package)
  | "no_content" // a text without a content token (only whitespace, zero-width or control characters): NoContentError
  // stored weights (5xx)
  | "weights_unavailable" // the weight store could not be read
  | "weights_corrupt" // stored bytes failed their sha256 check (after one re-read)
  | "io" // a read that returned fewer bytes than asked, failed, or timed out
  | "integrity" // bytes whose sha256 differs from the manifest (after one re-read)
  | "version" // a package written by a newer format version
  | "bad_package" // manifest.json, weights.bin or config that does not follow docs/format.md
  | "bad_tokenizer" // tokenizer.json that cannot be used
  // conversion (CLI)
  | "bad_checkpoint" // a checkpoint folder (safetensors, config, tokenizer) that cannot be converted
  | "bad_safetensors" // a safetensors file that does not parse
  // ours (5xx)
  | "bad_argument" // a caller error inside the code (tile or block index out of range, unknown tensor)
  | "bad_config" // a Worker variable (CACHE_MB, READ_TIMEOUT_MS, …) out of range
  | "cache_full" // every block cache slot is pinned by the current run
  | "kernel" // a kernel call with bad arguments, or out of wasm memory
  | "internal"; // a broken invariant (a bug)

export class UfbError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UfbError";
    this.code = code;
  }
}

/** Thrown when bytes read from a package do not hash to the manifest's sha256. */
export class IntegrityError extends UfbError {
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

/**
 * A stored object changed or vanished under a loaded model (its etag no longer matches, or it is gone): the
 * model's view of the bucket is stale. Shown as `weights_unavailable`; the Worker's registry drops the
 * model, so the next request loads what the bucket holds now.
 */
export class StaleObjectError extends UfbError {
  constructor(message: string) {
    super("io", message);
    this.name = "StaleObjectError";
  }
}

/** Every slot of a block cache is pinned (or the piece is larger than the cache). */
export class CacheFullError extends UfbError {
  constructor(message: string) {
    super("cache_full", message);
    this.name = "CacheFullError";
  }
}

/** A kernel call with arguments the kernels cannot take, or an arena out of wasm memory. */
export class KernelError extends UfbError {
  constructor(message: string) {
    super("kernel", message);
    this.name = "KernelError";
  }
}

/** A command line the CLI cannot run (exit status 2 with the usage text). */
export class UsageError extends UfbError {
  constructor(message: string) {
    super("bad_argument", message);
    this.name = "UsageError";
  }
}

/**
 * Texts that tokenize to no content token (only whitespace, zero-width or control characters; with the
 * crammedBERT vocabulary, which drops non-ASCII, also text in other scripts). The model would classify
 * `<cls><sep>` alone and answer with confidence; the engine refuses instead and names every such text by
 * its index in the request, which the HTTP layer turns into a JSON Pointer of the request's own field.
 */
export class NoContentError extends UfbError {
  readonly indices: number[];
  constructor(indices: number[]) {
    super("no_content", `${indices.map((i) => `texts[${i}]`).join(", ")}: no content token (only whitespace, zero-width or control characters, or characters the tokenizer drops)`);
    this.name = "NoContentError";
    this.indices = indices;
  }
}
