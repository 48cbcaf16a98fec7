import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { SnakepitError } from "@snakepit/errors";
import {
  expectBoolean,
  expectInteger,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";
import { type ProcessEntry, processTree } from "./process-tree.js";

/** How memory is counted. */
export type MemoryKind = "rss" | "pss";

/** Options of {@link sampleMemory}. */
export interface SampleMemoryOptions {
  /** Count the process's descendants (and its group, if it leads one). Default `true`. */
  includeChildren?: boolean;
  /**
   * `"rss"`: resident set size (`/proc/<pid>/status` VmRSS); cheap, but counts pages shared
   * with other processes in full. `"pss"`: proportional set size (`/proc/<pid>/smaps_rollup`),
   * which splits shared pages between sharers: the honest number for workers forked from a
   * preloaded parent; costlier. Falls back to `"rss"` where PSS is unreadable. Default `"rss"`.
   */
  kind?: MemoryKind;
  /** Aborts the sample; it then rejects with `ABORTED`. Optional. */
  signal?: AbortSignal;
}

/** A memory reading of a process and (optionally) its children. */
export interface MemorySample {
  /** The root pid that was asked for. */
  readonly pid: number;
  /** Memory of every counted process, summed, bytes. */
  readonly bytes: number;
  /** How many processes were counted (the root included). */
  readonly processes: number;
  /** What `bytes` measures: the kind asked for, or `"rss"` where PSS was unreadable. */
  readonly kind: MemoryKind;
  /** When the sample was taken, epoch milliseconds. */
  readonly sampledAt: number;
}

const KIB = 1024;

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SnakepitError("ABORTED", "Memory sample aborted", { cause: signal.reason });
  }
}

/** Parses `/proc/<pid>/stat`; the command name may hold spaces and `)`, so split after the last `)`. */
function parseStat(pid: number, text: string): ProcessEntry | undefined {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, ppid, pgid] = fields;
  if (state === undefined || ppid === undefined || pgid === undefined) return undefined;
  return { pid, ppid: Number(ppid), pgid: Number(pgid), zombie: state === "Z" || state === "X" };
}

async function readProcTable(): Promise<ProcessEntry[]> {
  const names = (await readdir("/proc")).filter((n) => /^\d+$/.test(n));
  const entries = await Promise.all(
    names.map(async (name) => {
      const pid = Number(name);
      try {
        return parseStat(pid, await readFile(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return undefined; // exited while we looked
      }
    }),
  );
  return entries.filter((e) => e !== undefined);
}

// Samples running at the same time (a scheduler sampling every worker of a pool at once) share
// one scan of /proc instead of each reading every /proc/<n>/stat: one scan of ~100 processes
// costs a few ms of CPU. Nothing is kept once the scan has settled.
let scanInFlight: Promise<ProcessEntry[]> | undefined;

function sharedProcTable(): Promise<ProcessEntry[]> {
  scanInFlight ??= readProcTable().finally(() => {
    scanInFlight = undefined;
  });
  return scanInFlight;
}

/** Reads one `<field>: <n> kB` line; `undefined` if the file is gone, 0 if the field is absent. */
async function readKib(file: string, field: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ENOENT" ||
      (err as NodeJS.ErrnoException).code === "ESRCH"
    ) {
      return undefined;
    }
    throw err;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]) * KIB;
}

async function sumMemory(
  pids: readonly number[],
  kind: MemoryKind,
): Promise<{ bytes: number; counted: number[] }> {
  const values = await Promise.all(
    pids.map((pid) =>
      kind === "pss"
        ? readKib(`/proc/${pid}/smaps_rollup`, "Pss")
        : readKib(`/proc/${pid}/status`, "VmRSS"),
    ),
  );
  let bytes = 0;
  const counted: number[] = [];
  values.forEach((value, i) => {
    const pid = pids[i];
    if (value !== undefined && pid !== undefined) {
      bytes += value;
      counted.push(pid);
    }
  });
  return { bytes, counted };
}

async function sampleFromProc(
  pid: number,
  includeChildren: boolean,
  kind: MemoryKind,
  signal?: AbortSignal,
) {
  const pids = processTree(await sharedProcTable(), pid, includeChildren);
  checkAborted(signal);
  if (pids === undefined) return undefined;
  let used = kind;
  let result: { bytes: number; counted: number[] };
  try {
    result = await sumMemory(pids, kind);
  } catch (err) {
    // smaps_rollup needs Linux 4.14 and ptrace-read access; without it, count RSS.
    if (kind !== "pss") throw err;
    used = "rss";
    result = await sumMemory(pids, "rss");
  }
  checkAborted(signal);
  if (!result.counted.includes(pid)) return undefined; // the root exited meanwhile
  return {
    pid,
    bytes: result.bytes,
    processes: result.counted.length,
    kind: used,
    sampledAt: Date.now(),
  };
}

/**
 * The documented fallback where `/proc` is missing (macOS, BSD): one
 * `ps -A -o pid=,ppid=,pgid=,rss=,stat=` call, RSS only. Exported for tests.
 */
export async function sampleMemoryFromPs(
  pid: number,
  includeChildren: boolean,
  signal?: AbortSignal,
): Promise<MemorySample | undefined> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile("ps", ["-A", "-o", "pid=,ppid=,pgid=,rss=,stat="], { signal }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  }).catch((err: unknown) => {
    checkAborted(signal);
    throw new SnakepitError("UNSUPPORTED_PLATFORM", "Could not read process memory with ps", {
      cause: err,
    });
  });
  const rss = new Map<number, number>();
  const entries: ProcessEntry[] = [];
  for (const line of stdout.split("\n")) {
    const [p, pp, pg, kib, stat] = line.trim().split(/\s+/);
    if (p === undefined || pp === undefined || pg === undefined || kib === undefined) continue;
    const entry = {
      pid: Number(p),
      ppid: Number(pp),
      pgid: Number(pg),
      zombie: stat?.startsWith("Z") === true,
    };
    entries.push(entry);
    rss.set(entry.pid, Number(kib) * KIB);
  }
  const pids = processTree(entries, pid, includeChildren);
  if (pids === undefined) return undefined;
  const bytes = pids.reduce((sum, p) => sum + (rss.get(p) ?? 0), 0);
  return { pid, bytes, processes: pids.length, kind: "rss", sampledAt: Date.now() };
}

let procAvailable: boolean | undefined;

async function hasProc(): Promise<boolean> {
  if (procAvailable === undefined) {
    try {
      await readFile("/proc/self/stat", "utf8");
      procAvailable = true;
    } catch {
      procAvailable = false;
    }
  }
  return procAvailable;
}

/**
 * Measures the memory of process `pid` from the OS — with its children by default — and
 * resolves `undefined` when the process is gone (or a zombie).
 *
 * On Linux it reads `/proc`: every `/proc/<n>/stat` once to find the descendants (by parent
 * pid, plus the process group when `pid` leads one), then VmRSS from `/proc/<n>/status` or Pss
 * from `/proc/<n>/smaps_rollup` of each (~11 ms wall, non-blocking, for ~70 processes on a busy
 * 2-core box; concurrent samples share one scan: 16 at once took ~17 ms). Elsewhere it
 * falls back to one `ps` call (RSS only, `kind: "rss"`).
 */
export async function sampleMemory(
  pid: number,
  options: SampleMemoryOptions = {},
): Promise<MemorySample | undefined> {
  expectInteger("pid", pid, 1);
  if (typeof options !== "object" || options === null)
    throw invalidOption("sampleMemory", "an object", options);
  rejectUnknownKeys(options, ["includeChildren", "kind", "signal"], "sampleMemory");
  const includeChildren = expectBoolean(
    "sampleMemory.includeChildren",
    options.includeChildren ?? true,
  );
  const kind = options.kind ?? "rss";
  if (kind !== "rss" && kind !== "pss")
    throw invalidOption("sampleMemory.kind", '"rss" or "pss"', kind);
  checkAborted(options.signal);
  if (await hasProc()) return sampleFromProc(pid, includeChildren, kind, options.signal);
  return sampleMemoryFromPs(pid, includeChildren, options.signal);
}
