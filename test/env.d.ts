// Bindings that exist only in the test runtime (vitest.config.ts), added to the generated Env.
declare namespace Cloudflare {
  interface Env {
    /** Disk service rooted at test/fixtures; supports Range requests. */
    FIXTURES: Fetcher;
    /** Disk service rooted at weights/ (the shipped packages). */
    PACKAGES: Fetcher;
  }
}
