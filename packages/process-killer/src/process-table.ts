import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { SnakepitError } from "@snakepit/errors";

/** What the OS tells about one process, read in one go. Internal: the public shape is `ProcessIdentity`. */
export interface ProcessEntry {
  readonly pid: number;
  /** Opaque start time: clock ticks since boot (Linux), seconds since the epoch (macOS). */
  readonly startTime: number;
  readonly pgid: number;
  /** One-letter state; `Z` (zombie) and `X` (dead) mean the process is gone. */
  readonly state: string;
  /** The argument vector (on macOS `ps` can only give it split on whitespace). */
  readonly argv: readonly string[];
}

/** True when `entry` exists and is not a zombie: a lazy PID 1 leaves killed orphans in state `Z`. */
export function isLiveEntry(entry: ProcessEntry | undefined): entry is ProcessEntry {
  return entry !== undefined && entry.state !== "Z" && entry.state !== "X";
}

/** Reads one process, or `undefined` when there is no such pid. Linux and macOS. */
export function readProcessEntry(pid: number): ProcessEntry | undefined {
  if (process.platform === "linux") return readLinuxEntry(pid);
  if (process.platform === "darwin") return readPsEntries(["-p", String(pid)])[0];
  throw unsupported("reading a process identity");
}

/** Every process visible to this user. Linux and macOS. */
export function listProcessEntries(): ProcessEntry[] {
  if (process.platform === "linux") {
    const entries: ProcessEntry[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const entry = readLinuxEntry(Number(name));
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }
  if (process.platform === "darwin") return readPsEntries(["-A"]);
  throw unsupported("listing processes");
}

/** The `UNSUPPORTED_PLATFORM` error for an operation that has no implementation on this OS. */
export function unsupported(what: string): SnakepitError {
  return new SnakepitError(
    "UNSUPPORTED_PLATFORM",
    `${what} is not supported on ${process.platform}`,
    { details: { platform: process.platform } },
  );
}

function readLinuxEntry(pid: number): ProcessEntry | undefined {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined; // gone, or gone between the two reads
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: fields[0] = state (field 3), fields[2] = pgrp (5), fields[19] = starttime (22).
  const state = fields[0] ?? "X";
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!Number.isFinite(pgid) || !Number.isFinite(startTime)) return undefined;
  const argv = cmdline.split("\0");
  if (argv.at(-1) === "") argv.pop();
  return { pid, startTime, pgid, state, argv };
}

function readPsEntries(selector: string[]): ProcessEntry[] {
  let out: string;
  try {
    out = execFileSync("ps", [...selector, "-o", "pid=,pgid=,stat=,lstart=,args="], {
      encoding: "utf8",
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return []; // ps exits 1 when `-p` names no process
  }
  const entries: ProcessEntry[] = [];
  for (const line of out.split("\n")) {
    // pid pgid stat  Mon Jan  1 12:00:00 2024  args...
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 8) continue;
    const [pid, pgid, stat, ...rest] = tokens;
    const startTime = Date.parse(rest.slice(0, 5).join(" ")) / 1000;
    if (!Number.isFinite(startTime)) continue;
    entries.push({
      pid: Number(pid),
      pgid: Number(pgid),
      state: (stat ?? "X").charAt(0),
      startTime,
      argv: rest.slice(5),
    });
  }
  return entries;
}
