/**
 * Reads files under test/fixtures from inside workerd, through the FIXTURES disk service binding
 * (vitest.config.ts). Paths are relative to test/fixtures.
 */
import { env } from "cloudflare:workers";

export async function fixtureBytes(path: string): Promise<Uint8Array> {
  const res = await env.FIXTURES.fetch(`http://fixtures/${path}`);
  if (!res.ok) throw new Error(`fixture ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export async function fixtureText(path: string): Promise<string> {
  return new TextDecoder().decode(await fixtureBytes(path));
}

export async function fixtureJson<T>(path: string): Promise<T> {
  return JSON.parse(await fixtureText(path)) as T;
}
