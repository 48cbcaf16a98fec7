import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Listen on a Unix socket (mode 0700) in the temp dir, or on a random 127.0.0.1 port. Default `"unix"`. */
  readonly listen?: "unix" | "tcp";
  /** The `requirepass` password. Default: a random one per server. */
  readonly password?: string;
  /** How long to wait for it to answer, in milliseconds. Default 10000. */
  readonly startTimeoutMs?: number;
}

/** A real `redis-server` run by a test, in a temp directory of its own, with a password. */
export interface RedisServer {
  /** `redis://:password@127.0.0.1:port` or `unix://:password@/path/redis.sock`, for node-redis's `url`. */
  readonly url: string;
  /** The Unix socket path, when listening on one. */
  readonly socketPath: string | undefined;
  /** The TCP port, when listening on one. */
  readonly port: number | undefined;
  readonly password: string;
  /** The running server's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and keeps its address for {@link start}. */
  stop(): Promise<void>;
  /** Starts it again on the same address (after {@link stop}). */
  start(): Promise<void>;
  /** Stops it and removes its temp directory. Idempotent. */
  close(): Promise<void>;
}

/** The `redis-server` executable on `PATH` (or in /usr/sbin, /usr/bin), or undefined when absent. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Starts `redis-server` with `requirepass`, no persistence, in a fresh temp directory, and
 * resolves once it answers `PING`. The caller must {@link RedisServer.close} it: the leak check
 * fails a test that leaves it running (it inherits the test's process tag).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const executable = findRedisServer();
  if (executable === undefined) throw new Error("redis-server is not installed");
  const password = options.password ?? randomBytes(12).toString("hex");
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), "redis-"));
  const socketPath = options.listen === "tcp" ? undefined : join(dir, "redis.sock");
  const port = socketPath === undefined ? await freePort() : undefined;
  const args = [
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--requirepass",
    password,
    "--daemonize",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "warning",
    ...(socketPath === undefined
      ? ["--port", String(port), "--bind", "127.0.0.1"]
      : ["--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700"]),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let closed = false;

  async function start(): Promise<void> {
    if (child !== undefined) return;
    const proc = spawn(executable as string, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    child = proc;
    const deadline = Date.now() + startTimeoutMs;
    while (!(await answersPing(socketPath, port, password))) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        child = undefined;
        throw new Error(`redis-server exited at start (${proc.exitCode}): ${stderr}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not answer within ${startTimeoutMs} ms: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      // A test may have stopped it (SIGSTOP): let it see the SIGTERM.
      proc.kill("SIGCONT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    proc.stderr?.destroy();
  }

  await start();
  const auth = `:${encodeURIComponent(password)}@`;
  return {
    url:
      socketPath === undefined ? `redis://${auth}127.0.0.1:${port}` : `unix://${auth}${socketPath}`,
    socketPath,
    port,
    password,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

/** True when the server answers `AUTH` + `PING` with `+PONG` (raw RESP: no client library). */
function answersPing(
  socketPath: string | undefined,
  port: number | undefined,
  password: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      socketPath === undefined
        ? createConnection({ port: port as number, host: "127.0.0.1" })
        : createConnection({ path: socketPath });
    let reply = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on("error", () => done(false));
    socket.on("connect", () => {
      const arg = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
      socket.write(`*2\r\n${arg("AUTH")}${arg(password)}*1\r\n${arg("PING")}`);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("+PONG")) done(true);
      else if (reply.startsWith("-") && reply.includes("\r\n")) done(false);
    });
  });
}
