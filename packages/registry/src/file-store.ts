import type { Stats } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
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
 * No server, no dependency. Failures reject with `REGISTRY_IO`, and so does a data directory
 * that is not this user's or that group or others can write (`details.rule` `"owner"`/`"mode"`).
 */
export function createFileStore(dataDir: string): RegistryStore {
  expectString("dataDir", dataDir);
  const runFile = (runId: string) => join(dataDir, `run-${expectRunId("runId", runId)}.json`);
  let ready: Promise<boolean> | undefined;
  // Checked once it exists; a missing directory is created (on a write) or read as empty.
  const ensureDir = (create: boolean): Promise<boolean> => {
    if (ready !== undefined) return ready;
    const check = secureDirectory(dataDir, create);
    check.then(
      (exists) => {
        if (exists) ready = check;
      },
      () => undefined,
    );
    return check;
  };
  return {
    location: dataDir,
    listRuns: () =>
      io("list runs in", dataDir, async () => {
        if (!(await ensureDir(false))) return [];
        const names = await readdir(dataDir);
        return names.flatMap((name) => RUN_FILE.exec(name)?.[1] ?? []).sort();
      }),
    readRun: (runId) =>
      io("read", runFile(runId), async () => {
        if (!(await ensureDir(false))) return undefined;
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
        await ensureDir(true);
        await writeFileAtomic(runFile(doc.runId), `${JSON.stringify(doc, null, 2)}\n`);
      }),
    deleteRun: (runId) =>
      io("delete", runFile(runId), async () => {
        await rm(runFile(runId), { force: true });
        await syncDirectory(dataDir).catch(() => undefined);
      }),
    lockRun: (runId, owner) =>
      io("lock", runFile(runId), async () => {
        await ensureDir(true);
        return acquireFileLock(join(dataDir, `run-${expectRunId("runId", runId)}.lock`), owner);
      }),
  };
}

const uid = process.getuid?.();

/**
 * Creates `dataDir` (mode 0700) when asked and missing, then refuses it unless it is a directory
 * owned by this user that neither group nor others can write: anyone who can write it can forge
 * records that make a sweep kill processes. Resolves whether it exists.
 */
async function secureDirectory(dataDir: string, create: boolean): Promise<boolean> {
  if (create) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  let stats: Stats;
  try {
    stats = await stat(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !create) return false;
    throw err;
  }
  const mode = stats.mode & 0o777;
  const refuse = (rule: string, why: string) =>
    new SnakepitError(
      "REGISTRY_IO",
      `Refusing the registry data directory ${dataDir}: ${why}. Anyone who can write it can forge ` +
        `records that make a sweep kill processes: use a directory of your own that only you can ` +
        `write (e.g. \`chmod 700 ${dataDir}\`).`,
      { details: { path: dataDir, rule, uid: stats.uid, mode: `0${mode.toString(8)}` } },
    );
  if (!stats.isDirectory()) throw refuse("directory", "it is not a directory");
  if (uid !== undefined && stats.uid !== uid)
    throw refuse("owner", `it is owned by uid ${stats.uid}, not by this user (uid ${uid})`);
  if ((mode & 0o022) !== 0)
    throw refuse(
      "mode",
      `its mode 0${mode.toString(8)} lets ${mode & 0o002 ? "every user" : "its group"} write it`,
    );
  return true;
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
