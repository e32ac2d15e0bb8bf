// Bindings that exist only in the test runtime (vitest.config.ts), added to the generated Env.
declare namespace Cloudflare {
  interface Env {
    /** Disk service rooted at test/fixtures; supports Range requests. */
    FIXTURES: Fetcher;
    /** Disk service rooted at weights/ (the shipped packages). */
    PACKAGES: Fetcher;
  }
}

// Vite's ?raw imports (a file's text as a string), for repository files outside test/fixtures.
declare module "*?raw" {
  const text: string;
  export default text;
}
