// A private redis-server for the examples when REDIS_URL is not set: a Unix socket (0700 dir),
// a random password, no persistence. Stopped by `close()`.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A redis-server this process started, and the url to reach it. */
export interface LocalRedis {
  readonly url: string;
  close(): Promise<void>;
}

/** True when `redis-server` can be run here. */
export function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Starts `redis-server` on a Unix socket in a new temp dir; resolves once the socket exists. */
export async function startLocalRedis(): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), "snakepit-example-redis-"));
  const socket = join(dir, "redis.sock");
  const password = randomBytes(16).toString("hex");
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--unixsocket",
      socket,
      "--unixsocketperm",
      "700",
      "--requirepass",
      password,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
  const exited = once(child, "exit");
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error("redis-server did not start");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `unix://:${password}@${socket}`,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
