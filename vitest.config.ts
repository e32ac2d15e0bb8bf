import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({
          main: "./src/index.ts",
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            // no rate limiting in tests (wrangler.toml declares a limiter, which miniflare simulates): every
            // test would share one counter; test/http/rate-limit.test.ts turns it on with a stand-in binding
            bindings: { RATE_LIMIT: "off" },
            serviceBindings: {
              // test fixtures and the shipped packages, read over fetch (Range supported) from inside workerd
              FIXTURES: { disk: { path: new URL("./test/fixtures", import.meta.url).pathname } },
              PACKAGES: { disk: { path: new URL("./weights", import.meta.url).pathname } },
            },
          },
        })],
        test: { name: "workerd", include: ["test/**/*.test.ts"], exclude: ["test/node/**"] },
      },
      { test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" } },
    ],
  },
});
