import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { ForkServerProcess, type ServerMessage, signalGroup } from "./fork-server-process.js";
import type { ForkServer, StartForkServerOptions } from "./fork-server-types.js";
import { spawnPython } from "./spawn-python.js";

export type { ForkServer, StartForkServerOptions } from "./fork-server-types.js";

const CONTROL_FD = 3;

/**
 * Whether workers can be forked here: Linux only (macOS can fork, but CPython defaults to spawn
 * there because system frameworks may crash in a forked child). When false, use `spawnWorker`.
 * (A pool's `startMode` option, default `$SNAKEPIT_START_MODE`, chooses between the two.)
 */
export function canFork(): boolean {
  return process.platform === "linux";
}

function serverArgs(o: StartForkServerOptions): string[] {
  const args = ["-m", "snakepit_bridge._internal.forkserver", "--adapter", o.adapter];
  args.push("--snakepit-run-id", o.runId, "--host-pid", String(process.pid));
  args.push("--control-fd", String(CONTROL_FD));
  if (o.preload !== undefined && o.preload.length > 0) args.push("--preload", o.preload.join(","));
  if (o.parentDeathSignal === false) args.push("--no-parent-death-signal");
  return args;
}

/**
 * Starts a fork server: one Python process that imports the bridge, grpcio, the adapter's module
 * and `preload` once, then forks ready-made workers on request ({@link ForkServer.fork}). It
 * leads its own process group, dies with the host (EOF of its channel, PDEATHSIG), and its
 * workers die with it. Resolves once the imports are done; rejects with `ADAPTER_LOAD_FAILED`
 * (a preload failed, traceback in `details`), `WORKER_START_FAILED`, `WORKER_START_TIMEOUT`,
 * `PYTHON_NOT_FOUND`, `UNSUPPORTED_PLATFORM` (see {@link canFork}) or the abort reason.
 */
export function startForkServer(options: StartForkServerOptions): Promise<ForkServer> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(SnakepitError.from(signal.reason, "ABORTED"));
  if (process.platform !== "linux")
    return Promise.reject(
      new SnakepitError(
        "UNSUPPORTED_PLATFORM",
        `Forking workers is not supported on ${process.platform}`,
      ),
    );
  let spawned: ReturnType<typeof spawnPython>;
  try {
    // The secret is per worker, applied after its fork: the fork server itself gets none.
    spawned = spawnPython({ ...options, secret: undefined, args: serverArgs(options), fd3: "ipc" });
  } catch (err) {
    return Promise.reject(err);
  }
  const { child, tail } = spawned;
  const server = new ForkServerProcess(child, options, tail);
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  return new Promise<ForkServer>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        fail(
          new SnakepitError(
            "WORKER_START_TIMEOUT",
            `Fork server did not report ready within ${startTimeoutMs} ms`,
            { details: { output: tail.toString() } },
          ),
        ),
      startTimeoutMs,
    );
    timer.unref();
    const onAbort = () => fail(SnakepitError.from(signal?.reason, "ABORTED"));
    signal?.addEventListener("abort", onAbort, { once: true });
    function cleanup() {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      child.off("message", onMessage);
    }
    function fail(error: SnakepitError) {
      if (settled) return;
      cleanup();
      signalGroup(child.pid ?? -1, "SIGKILL");
      void server.exited.then(() => reject(error));
    }
    function onMessage(message: ServerMessage) {
      if (message.event === "ready") {
        cleanup();
        resolve(server);
      } else if (message.event === "error") {
        fail(
          new SnakepitError(
            "ADAPTER_LOAD_FAILED",
            `Fork server could not import "${options.adapter}" or a preload module: ${message.type ?? "Error"}: ${message.message ?? ""}`,
            {
              details: {
                type: message.type,
                message: message.message,
                traceback: message.traceback,
                adapter: options.adapter,
              },
            },
          ),
        );
      }
    }
    child.on("message", onMessage);
    child.once("error", (cause: NodeJS.ErrnoException) => {
      if (settled) return;
      cleanup();
      const code: ErrorCode =
        cause.code === "ENOENT" || cause.code === "EACCES"
          ? "PYTHON_NOT_FOUND"
          : "WORKER_START_FAILED";
      reject(
        new SnakepitError(
          code,
          `Could not start Python at ${options.pythonExecutable}: ${cause.message}`,
          {
            cause,
          },
        ),
      );
    });
    void server.exited.then((e) => {
      if (settled) return;
      cleanup();
      setImmediate(() =>
        reject(
          new SnakepitError(
            "WORKER_START_FAILED",
            `Fork server exited (${e.signal ?? `exit code ${e.code}`}) before it was ready.\n${tail.toString()}`,
            { details: { exitCode: e.code, signal: e.signal, output: tail.toString() } },
          ),
        ),
      );
    });
  });
}
