/**
 * The one error type of the model room. `code` is stable (the HTTP layer and the CLI map it); the
 * message names the field or tensor and says what was expected.
 */
export type ModelErrorCode =
  | "bad_input" // ids, mask, positions or texts that do not fit the model
  | "bad_tokenizer" // tokenizer.json that cannot be used
  | "bad_package" // a package whose config does not describe a model this engine runs
  | "unsupported"; // a request the loaded model cannot serve (e.g. fill-mask on a classifier)

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string) {
    super(message);
    this.name = "ModelError";
    this.code = code;
  }
}
