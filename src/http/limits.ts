/** Request limits of the API (docs/api.md "Limits"). Change them here only. */
export const LIMITS = {
  /** Request body, in bytes (hono/body-limit); checked on Content-Length and while streaming. */
  maxBodyBytes: 64 * 1024,
  /** Texts per request (`texts` array). */
  maxTexts: 32,
  /** Characters (Unicode code points) per text; longer texts get 422, not silent truncation. */
  maxTextChars: 8192,
  /** Upper bound of fill-mask `top_k`; its default is `fillMaskTopKDefault`. */
  fillMaskTopKMax: 50,
  fillMaskTopKDefault: 5,
  /** Model names: the `<name>` of an R2 prefix `models/<name>/<version>/`. */
  modelNamePattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
} as const;
