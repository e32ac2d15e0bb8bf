// Lets Node-side code type-check imports of the kernel module path (the Worker gets this from
// worker-configuration.d.ts, which `wrangler types` generates).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
