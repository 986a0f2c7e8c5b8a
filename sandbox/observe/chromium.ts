/** Finds a Chromium or Chrome binary: CHROME_PATH, else the names Debian and others install on the PATH. */
import { whichOnPath } from "../servers/cache.ts";

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.CHROME_PATH) return env.CHROME_PATH;
  for (const name of NAMES) {
    const found = await whichOnPath(name, env);
    if (found) return found;
  }
  return undefined;
}
