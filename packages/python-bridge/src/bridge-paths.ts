import { fileURLToPath } from "node:url";

/** The directory holding the `snakepit_bridge` Python package (added to the worker's PYTHONPATH). */
export const bridgePythonDir: string = fileURLToPath(new URL("../python", import.meta.url));

/** The bridge's runtime requirements file, for `pip install -r`. */
export const bridgeRequirementsFile: string = fileURLToPath(
  new URL("../python/requirements.txt", import.meta.url),
);
