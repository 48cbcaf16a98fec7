import { SnakepitError } from "@snakepit/errors";
import { ForkServerProcess, type ServerMessage } from "./fork-server-process.js";
import type { ForkServer, StartForkServerOptions } from "./fork-server-types.js";
import { bridgeModuleArgs, type SpawnedPython, spawnPython } from "./spawn-python.js";
import { awaitStart } from "./start-handshake.js";

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
  const args = [
    ...bridgeModuleArgs("snakepit_bridge._internal.forkserver"),
    "--adapter",
    o.adapter,
  ];
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
  let spawned: SpawnedPython;
  try {
    // The secret is per worker, applied after its fork: the fork server itself gets none.
    spawned = spawnPython({ ...options, secret: undefined, args: serverArgs(options), fd3: "ipc" });
  } catch (err) {
    return Promise.reject(err);
  }
  const { child, tail, spawnFailed } = spawned;
  const server = new ForkServerProcess(child, options, tail);
  const starting = {
    name: "Fork server",
    pid: child.pid,
    exited: server.exited,
    spawnFailed,
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    signal,
    output: () => tail.toString(),
  };
  return awaitStart<ForkServer>(starting, (attempt) => {
    const onMessage = (message: ServerMessage) => {
      if (message.event === "ready") attempt.ready(server);
      else if (message.event === "error")
        attempt.fail(
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
    };
    child.on("message", onMessage);
    attempt.settled.addEventListener("abort", () => child.off("message", onMessage), {
      once: true,
    });
  });
}
