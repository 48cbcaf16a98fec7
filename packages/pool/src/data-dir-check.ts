import { readdir, stat } from "node:fs/promises";
import { SnakepitError } from "@snakepit/errors";

/**
 * Fails with `REGISTRY_IO` unless `dir` is a directory this process can list. For a data
 * directory the user named (`--data-dir`): a missing or unreadable one is a mistake to report,
 * not an empty registry (only the default directory may be absent, before any pool has run).
 */
export async function expectReadableDataDir(dir: string): Promise<void> {
  const fail = (why: string, cause?: unknown) =>
    new SnakepitError("REGISTRY_IO", `Cannot read the data directory ${dir}: ${why}`, {
      cause,
      details: { path: dir },
    });
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw fail("it does not exist", err);
    throw fail((err as Error).message, err);
  }
  if (!info.isDirectory()) throw fail("it is not a directory");
  try {
    await readdir(dir);
  } catch (err) {
    throw fail((err as Error).message, err);
  }
}
