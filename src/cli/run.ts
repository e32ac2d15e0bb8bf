/**
 * `ufb run …`: placeholder. The model engineer replaces this file (src/model + the engine).
 */
export async function runCommand(argv: string[]): Promise<number> {
  void argv;
  console.error("ufb run: not implemented yet");
  return 2;
}
