/**
 * Argument parsing for `ufb`: node:util parseArgs for the shape, zod for the values, and one UsageError
 * whose message says which argument was wrong and what it accepts.
 */
import { UsageError } from "../errors.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export function parse(argv: string[], options: OptionSpec, positionals: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  // a trailing "name?" is optional
  const required = positionals.filter((p) => !p.endsWith("?")).length;
  if (parsed.positionals.length < required || parsed.positionals.length > positionals.length) {
    const got = parsed.positionals.length;
    throw new UsageError(
      got < required
        ? `missing ${positionals.slice(got, required).map((p) => `<${p}>`).join(" ")}`
        : `unexpected argument ${JSON.stringify(parsed.positionals[positionals.length])}`,
    );
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** An integer flag in [min, max]. */
export function intFlag(name: string, value: string | boolean | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const r = z.coerce.number().int().min(min).max(max).safeParse(typeof value === "string" && /^\s*$/.test(value) ? "x" : value);
  if (!r.success || typeof value !== "string" || !/^-?\d+$/.test(value.trim())) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected an integer in [${min}, ${max}]`);
  }
  return r.data;
}

/** A flag with one of a few values. */
export function enumFlag<T extends string>(name: string, value: string | boolean | undefined, allowed: readonly T[], fallback: T): T;
export function enumFlag<T extends string>(name: string, value: string | boolean | undefined, allowed: readonly T[], fallback?: undefined): T | undefined;
export function enumFlag<T extends string>(name: string, value: string | boolean | undefined, allowed: readonly T[], fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** created.at: SOURCE_DATE_EPOCH (reproducible builds) when set, else now. */
export function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH ${JSON.stringify(epoch)}: expected seconds since 1970`);
    return new Date(Number(epoch) * 1000).toISOString();
  }
  return new Date().toISOString();
}
