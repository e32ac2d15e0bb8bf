/** sha256 through crypto.subtle (workerd and Node 24 alike), as lowercase hex. */
import { IntegrityError } from "../../errors.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

/** Throws IntegrityError(what, expected, actual) unless sha256(bytes) = expected. */
export async function verifySha256(what: string, bytes: Uint8Array, expected: string): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== expected) throw new IntegrityError(what, expected, actual);
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
