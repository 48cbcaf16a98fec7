import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { SnakepitError } from "@snakepit/errors";
import { expectString } from "@snakepit/errors/internal";
import { acquireFileLock } from "./file-lock.js";
import type { RegistryStore, RunDocument } from "./registry-store.js";
import { expectRunId } from "./run-id.js";
import { syncDirectory, writeFileAtomic } from "./write-file-atomic.js";

const RUN_FILE = /^run-([0-9a-z]{4,32})\.json$/;

/**
 * The default {@link RegistryStore}: one JSON file per host run, `run-<runId>.json`, in
 * `dataDir` (created with mode 0700 when missing; files are 0600). Writes are crash-safe (temp
 * file, fsync, rename, fsync of the directory); the sweep lock of a run is `run-<runId>.lock`.
 * No server, no dependency. Failures reject with `REGISTRY_IO`.
 */
export function createFileStore(dataDir: string): RegistryStore {
  expectString("dataDir", dataDir);
  const runFile = (runId: string) => join(dataDir, `run-${expectRunId("runId", runId)}.json`);
  let ready: Promise<void> | undefined;
  const ensureDir = () => {
    ready ??= mkdir(dataDir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return ready;
  };
  return {
    location: dataDir,
    listRuns: () =>
      io("list runs in", dataDir, async () => {
        let names: string[];
        try {
          names = await readdir(dataDir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
          throw err;
        }
        return names.flatMap((name) => RUN_FILE.exec(name)?.[1] ?? []).sort();
      }),
    readRun: (runId) =>
      io("read", runFile(runId), async () => {
        let text: string;
        try {
          text = await readFile(runFile(runId), "utf8");
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
          throw err;
        }
        return parseRunDocument(text, runId);
      }),
    writeRun: (doc) =>
      io("write", runFile(doc.runId), async () => {
        await ensureDir();
        await writeFileAtomic(runFile(doc.runId), `${JSON.stringify(doc, null, 2)}\n`);
      }),
    deleteRun: (runId) =>
      io("delete", runFile(runId), async () => {
        await rm(runFile(runId), { force: true });
        await syncDirectory(dataDir).catch(() => undefined);
      }),
    lockRun: (runId, owner) =>
      io("lock", runFile(runId), async () => {
        await ensureDir();
        return acquireFileLock(join(dataDir, `run-${expectRunId("runId", runId)}.lock`), owner);
      }),
  };
}

function parseRunDocument(text: string, runId: string): RunDocument {
  const doc = JSON.parse(text) as Partial<RunDocument>;
  if (
    doc.version !== 1 ||
    doc.runId !== runId ||
    typeof doc.host?.pid !== "number" ||
    typeof doc.workers !== "object" ||
    doc.workers === null
  ) {
    throw new Error(`run document of ${runId} has an unexpected shape`);
  }
  return doc as RunDocument;
}

async function io<T>(verb: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SnakepitError) throw err;
    throw new SnakepitError("REGISTRY_IO", `Could not ${verb} ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
}
