import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { ExitInfo } from "./resolve-kill-options.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));

/** A running fixture program, for tests. */
export interface Fixture {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit of the child (our child, so the code/signal are known). */
  readonly exited: Promise<ExitInfo>;
  /** Resolves with the first line the fixture writes to stdout. */
  readonly firstLine: Promise<string>;
}

/**
 * Starts `test/fixtures/<name>` (a `.mjs` with Node, anything else directly) with `args`.
 * `detached: true` makes it lead its own process group.
 */
export function spawnFixture(name: string, args: string[] = [], detached = false): Fixture {
  const file = FIXTURES + name;
  const [command, argv] = name.endsWith(".mjs")
    ? [process.execPath, [file, ...args]]
    : [file, args];
  const child = spawn(command, argv, { detached, stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const firstLine = new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\n");
      if (end >= 0) resolve(text.slice(0, end));
    });
    child.once("exit", () => reject(new Error(`${name} exited before writing a line`)));
  });
  firstLine.catch(() => undefined);
  if (child.pid === undefined) throw new Error(`could not spawn ${name}`);
  return { child, pid: child.pid, exited, firstLine };
}

/** SIGKILLs every given pid (ignoring the gone ones): test cleanup after a failed assertion. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
