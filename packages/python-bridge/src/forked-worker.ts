import type { Socket } from "node:net";
import { SnakepitError } from "@snakepit/errors";
import { createGrpcJsWorkerClient } from "./grpc-js-worker-client.js";
import { splitLines } from "./line-splitter.js";
import type { OutputTail } from "./output-tail.js";
import {
  describeExit,
  type SpawnWorkerOptions,
  type WorkerExit,
  type WorkerProcess,
} from "./spawn-worker.js";
import { parseControlLine } from "./worker-handshake.js";

/**
 * Options of `ForkServer.fork`: the same object `spawnWorker` takes, so a pool can use either
 * path. `pythonExecutable`, `adapter` and `runId` may be left out; when given they must equal the
 * fork server's (they are fixed when it starts). `capNativeThreads` is the fork server's too: the
 * thread caps must be in the environment before native libraries are imported.
 */
export type ForkWorkerOptions = Omit<
  SpawnWorkerOptions,
  "pythonExecutable" | "adapter" | "runId" | "capNativeThreads"
> &
  Partial<Pick<SpawnWorkerOptions, "pythonExecutable" | "adapter" | "runId" | "capNativeThreads">>;

/** The three sockets a forked child shares with the host (passed over the fork server's channel). */
export interface ForkChannels {
  readonly control: Socket;
  readonly stdout: Socket;
  readonly stderr: Socket;
}

/** The worker flags sent to the fork server: `spawnWorker`'s argv without `-m` and `--control-fd`. */
/** Environment overrides applied in the child after the fork (`null` removes a variable). */
export function forkedWorkerEnv(o: ForkWorkerOptions): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(o.env ?? {})) env[k] = v ?? null;
  env.SNAKEPIT_SECRET = o.secret ?? null;
  return env;
}

/** What a forked child's readiness wait needs from the fork server. */
export interface ForkedChild {
  readonly pid: number;
  readonly channels: ForkChannels;
  readonly tail: OutputTail;
  readonly exited: Promise<WorkerExit>;
  exit(): WorkerExit | undefined;
}

/**
 * Resolves once the forked child reports ready on its control socket, with the same
 * `WorkerProcess` `spawnWorker` returns. On failure the child's group is SIGKILLed and the promise
 * rejects only once the child has exited (never leaving a process behind), with the same codes as
 * `spawnWorker`: `ADAPTER_LOAD_FAILED`, `INVALID_OPTIONS`, `WORKER_START_FAILED`,
 * `WORKER_START_TIMEOUT`, `PROTOCOL_ERROR`, or the abort reason.
 */
export function awaitForkedWorker(
  options: ForkWorkerOptions,
  adapter: string,
  child: ForkedChild,
): Promise<WorkerProcess> {
  const { signal } = options;
  const { control } = child.channels;
  const controlClosed = new Promise<void>((resolve) => control.once("close", () => resolve()));
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  return new Promise<WorkerProcess>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        fail(
          new SnakepitError(
            "WORKER_START_TIMEOUT",
            `Worker ${options.workerId} did not report ready within ${startTimeoutMs} ms`,
            { details: { output: child.tail.toString() } },
          ),
        ),
      startTimeoutMs,
    );
    timer.unref();
    const onAbort = () => fail(SnakepitError.from(signal?.reason, "ABORTED"));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    function cleanup() {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    function fail(error: SnakepitError) {
      if (settled) return;
      cleanup();
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      control.destroy();
      void child.exited.then(() => reject(error));
    }

    void child.exited.then(async (e) => {
      if (settled) return;
      // An error line may still be in flight on the control socket: let it win.
      await controlClosed;
      if (settled) return;
      cleanup();
      reject(
        new SnakepitError(
          "WORKER_START_FAILED",
          `Worker ${options.workerId} exited (${describeExit(e)}) before it was ready.\n${child.tail.toString()}`,
          { details: { exitCode: e.code, signal: e.signal, output: child.tail.toString() } },
        ),
      );
    });

    splitLines(control, (line) => {
      const parsed = parseControlLine(line, { workerId: options.workerId, adapter });
      if (parsed.kind === "log") return options.onLog?.(parsed.record);
      if (settled) return;
      if (parsed.kind === "error") return fail(parsed.error);
      if (parsed.kind === "ready") {
        const address = parsed.address;
        cleanup();
        // The control socket stays open as the worker's lifeline; it must not keep the host alive by itself.
        control.unref();
        resolve({
          workerId: options.workerId,
          pid: child.pid,
          pgid: child.pid,
          address: address,
          client: createGrpcJsWorkerClient(
            address,
            options.secret === undefined ? {} : { secret: options.secret },
          ),
          exited: child.exited,
          get exit() {
            return child.exit();
          },
          outputTail: () => child.tail.toString(),
        });
      }
    });
  });
}
