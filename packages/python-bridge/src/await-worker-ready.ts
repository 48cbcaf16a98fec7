import type { Socket } from "node:net";
import { SnakepitError } from "@snakepit/errors";
import { splitLines } from "./line-splitter.js";
import type { OutputTail } from "./output-tail.js";
import type { SpawnWorkerOptions, WorkerProcess } from "./spawn-worker.js";
import { awaitStart } from "./start-handshake.js";
import type { WorkerExit } from "./worker-exit.js";
import { parseControlLine } from "./worker-handshake.js";
import { createWorkerClient } from "./worker-transport.js";

/** A worker process, spawned or forked, that has not reported ready yet. */
export interface StartedWorker {
  /** `undefined` when the spawn failed (`spawnFailed` says why). */
  readonly pid: number | undefined;
  /** The host's end of the worker's control socket (its fd 3). */
  readonly control: Socket | null;
  readonly tail: OutputTail;
  readonly exited: Promise<WorkerExit>;
  exit(): WorkerExit | undefined;
  /** See `StartingProcess.spawnFailed`. */
  readonly spawnFailed?: Promise<SnakepitError>;
  /** See `StartingProcess.afterExit`. */
  readonly afterExit?: () => Promise<void>;
  /** The host's end of the frames socket (the worker's fd 4), with `transport: "frames"`. */
  readonly frames?: Socket | undefined;
}

/**
 * Resolves once the worker reports ready on its control socket, with the {@link WorkerProcess}
 * both `spawnWorker` and `ForkServer.fork` return. Rejects (after the process is gone) with
 * `ADAPTER_LOAD_FAILED`, `INVALID_OPTIONS`, `WORKER_START_FAILED`, `WORKER_START_TIMEOUT`,
 * `PROTOCOL_ERROR`, the spawn error (`PYTHON_NOT_FOUND`) or the abort reason.
 */
export function awaitWorkerReady(
  options: Pick<
    SpawnWorkerOptions,
    "workerId" | "startTimeoutMs" | "signal" | "secret" | "onLog" | "transport" | "maxMessageBytes"
  >,
  adapter: string,
  worker: StartedWorker,
): Promise<WorkerProcess> {
  const { control, tail } = worker;
  const starting = {
    name: `Worker ${options.workerId}`,
    pid: worker.pid,
    exited: worker.exited,
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    signal: options.signal,
    output: () => tail.toString(),
    ...(worker.spawnFailed === undefined ? {} : { spawnFailed: worker.spawnFailed }),
    ...(worker.afterExit === undefined ? {} : { afterExit: worker.afterExit }),
  };
  const started = awaitStart<WorkerProcess>(starting, (attempt) => {
    if (control === null) {
      attempt.fail(new SnakepitError("INTERNAL", "The worker's control socket was not created"));
      return;
    }
    splitLines(control, (line) => {
      const parsed = parseControlLine(line, { workerId: options.workerId, adapter });
      // Log records come before and after the handshake, for the worker's whole life.
      if (parsed.kind === "log") return options.onLog?.(parsed.record);
      if (attempt.settled.aborted) return;
      if (parsed.kind === "error") return attempt.fail(parsed.error);
      if (parsed.kind !== "ready") return;
      // The lifeline must not keep the host alive by itself.
      control.unref();
      const pid = worker.pid ?? -1;
      attempt.ready({
        workerId: options.workerId,
        pid,
        pgid: pid,
        address: parsed.address,
        client: createWorkerClient(options, parsed.address, worker.frames),
        exited: worker.exited,
        get exit() {
          return worker.exit();
        },
        outputTail: () => tail.toString(),
      });
    });
  });
  // A ready worker keeps its sockets (the control socket is its lifeline). A failed start closes
  // them, whether or not they were ever read: a start aborted before it began never reads them,
  // and a socket nobody reads never sees its peer's EOF once the peer wrote anything.
  return started.catch((error: unknown) => {
    control?.destroy();
    worker.frames?.destroy();
    throw error;
  });
}
