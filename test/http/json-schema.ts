/**
 * A small validator for the JSON Schema subset that zod-to-openapi emits into /openapi.json (type, enum,
 * const, properties, required, additionalProperties, items, min/max, anyOf/oneOf/allOf, $ref). Used to check
 * real responses against the *published* document, not against the zod schemas it was generated from.
 */
export type Schema = Record<string, unknown>;

export function validate(value: unknown, schema: Schema, root: Schema, path = "#"): string[] {
  if (typeof schema.$ref === "string") return validate(value, resolveRef(schema.$ref, root), root, path);
  const errors: string[] = [];
  const fail = (msg: string) => errors.push(`${path}: ${msg}`);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => hasType(value, t))) return [`${path}: expected ${types.join("|")}, got ${JSON.stringify(value)?.slice(0, 40)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) fail(`not one of ${JSON.stringify(schema.enum)}`);
  if ("const" in schema && schema.const !== value) fail(`expected ${JSON.stringify(schema.const)}`);
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) fail(`< minimum ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) fail(`> maximum ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && [...value].length < schema.minLength) fail(`shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === "number" && [...value].length > schema.maxLength) fail(`longer than ${schema.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) fail(`fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) fail(`more than ${schema.maxItems} items`);
    if (schema.items && typeof schema.items === "object") value.forEach((v, i) => errors.push(...validate(v, schema.items as Schema, root, `${path}/${i}`)));
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in obj)) fail(`missing required "${key}"`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errors.push(...validate(v, props[key], root, `${path}/${key}`));
      else if (schema.additionalProperties === false) fail(`unexpected property "${key}"`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") errors.push(...validate(v, schema.additionalProperties as Schema, root, `${path}/${key}`));
    }
  }
  for (const sub of (schema.allOf ?? []) as Schema[]) errors.push(...validate(value, sub, root, path));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(value, s as Schema, root, path).length === 0)) fail("matches none of anyOf");
  if (Array.isArray(schema.oneOf) && schema.oneOf.filter((s) => validate(value, s as Schema, root, path).length === 0).length !== 1) fail("does not match exactly one of oneOf");
  return errors;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

export function resolveRef(ref: string, root: Schema): Schema {
  if (!ref.startsWith("#/")) throw new Error(`only local refs are supported: ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    node = (node as Record<string, unknown> | undefined)?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  return node as Schema;
}

/** Every $ref string anywhere in the document. */
export function allRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) allRefs(v, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else allRefs(v, out);
    }
  }
  return out;
}
