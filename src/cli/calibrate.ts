/**
 * The calibration step of `ufb convert --dtype int8`: runs the new int8 package and an f32 twin of the
 * same checkpoint on the same inputs and reports how far they differ (src/model/calibration.ts).
 */
import { Engine } from "../model/engine.ts";
import { calibrationInputs, compareEngines, formatCalibration } from "../model/calibration.ts";
import { openPackageDir } from "./files.ts";
import { loadKernel } from "./kernel.ts";

export async function calibrate(f32Dir: string, q8Dir: string): Promise<string> {
  const f32 = await openPackageDir(f32Dir);
  const q8 = await openPackageDir(q8Dir);
  try {
    const reference = await Engine.create(f32.pkg, await loadKernel());
    const candidate = await Engine.create(q8.pkg, await loadKernel());
    return formatCalibration(await compareEngines(reference, candidate, calibrationInputs(reference)));
  } finally {
    await f32.close();
    await q8.close();
  }
}
