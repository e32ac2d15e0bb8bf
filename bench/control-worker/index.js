// Answers every request with "ok": whatever memory grows under load here is the local runtime's, not a Worker's.
export default { fetch: () => new Response("ok") };
