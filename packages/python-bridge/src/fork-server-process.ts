import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { killWithEscalation, waitUntilGone } from "@snakepit/process-killer";
import type { ForkServer, StartForkServerOptions } from "./fork-server-types.js";
import {
  awaitForkedWorker,
  type ForkChannels,
  type ForkWorkerOptions,
  forkedWorkerEnv,
} from "./forked-worker.js";
import { splitLines } from "./line-splitter.js";
import { OutputTail } from "./output-tail.js";
import type { WorkerProcess } from "./spawn-worker.js";
import type { WorkerExit } from "./worker-exit.js";
import { workerFlags } from "./worker-handshake.js";
import { checkTransport } from "./worker-transport.js";

const CLOSE_GRACE_MS = 5000;

/** A fork server's messages on its channel (see snakepit_bridge/_internal/forkserver.py). */
export interface ServerMessage {
  event?: string;
  ref?: number;
  stream?: keyof ForkChannels;
  worker_id?: string;
  pid?: number;
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  message?: string;
  type?: string;
  traceback?: string;
}

interface PendingFork {
  readonly channels: Partial<Record<keyof ForkChannels, Socket>>;
  readonly tail: OutputTail;
  readonly onOutput: ForkWorkerOptions["onOutput"];
  /** The worker serves frames: a fourth socket comes with the fork. */
  readonly frames: boolean;
  /** Gets the record itself: the child may exit (and leave `#children`) before the fork resumes. */
  forked(record: ChildRecord): void;
  failed(error: SnakepitError): void;
}

interface ChildRecord {
  readonly pid: number;
  readonly channels: ForkChannels;
  exit: WorkerExit | undefined;
  readonly exited: Promise<WorkerExit>;
  finish(exit: WorkerExit): void;
}

/** The host side of one running fork server: pending forks, forked children, their exits. */
export class ForkServerProcess implements ForkServer {
  readonly #child: ChildProcess;
  readonly #options: StartForkServerOptions;
  readonly #tail: OutputTail;
  readonly #pending = new Map<number, PendingFork>();
  readonly #children = new Map<number, ChildRecord>();
  #nextRef = 0;
  #exit: WorkerExit | undefined;
  #closing: Promise<void> | undefined;
  readonly exited: Promise<WorkerExit>;

  constructor(child: ChildProcess, options: StartForkServerOptions, tail: OutputTail) {
    this.#child = child;
    this.#options = options;
    this.#tail = tail;
    this.exited = new Promise<WorkerExit>((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        this.#onServerExit();
        resolve(this.#exit);
      });
    });
    child.on("message", (message: ServerMessage, handle?: Socket) =>
      this.#onMessage(message, handle),
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }
  get adapter(): string {
    return this.#options.adapter;
  }
  get runId(): string {
    return this.#options.runId;
  }
  get exit(): WorkerExit | undefined {
    return this.#exit;
  }
  outputTail(): string {
    return this.#tail.toString();
  }

  async fork(options: ForkWorkerOptions): Promise<WorkerProcess> {
    for (const name of ["pythonExecutable", "adapter", "runId"] as const) {
      const value = options[name];
      if (value !== undefined && value !== this.#options[name])
        throw new SnakepitError(
          "INVALID_OPTIONS",
          `Expected \`${name}\` to equal the fork server's \`${this.#options[name]}\`, got \`${value}\` (string)`,
        );
    }
    if (options.signal?.aborted) throw SnakepitError.from(options.signal.reason, "ABORTED");
    checkTransport(options);
    if (this.#closing !== undefined || this.#exit !== undefined || !this.#child.connected)
      throw new SnakepitError(
        "WORKER_START_FAILED",
        `Cannot fork worker ${options.workerId}: the fork server is ${this.#exit ? "gone" : "closing"}`,
      );
    const ref = this.#nextRef++;
    const tail = new OutputTail();
    const record = await new Promise<ChildRecord>((forked, failed) => {
      this.#pending.set(ref, {
        channels: {},
        tail,
        onOutput: options.onOutput,
        frames: options.transport === "frames",
        forked,
        failed,
      });
      const request = {
        op: "fork",
        ref,
        worker_id: options.workerId,
        args: workerFlags(options, this.adapter, this.runId),
        env: forkedWorkerEnv(options),
        cwd: options.cwd ?? null,
      };
      this.#child.send(request, (error) => {
        if (error) this.#failPending(ref, "WORKER_START_FAILED", error.message);
      });
    });
    const { pid } = record;
    options.onSpawn?.(pid);
    return awaitForkedWorker(options, this.adapter, {
      pid,
      channels: record.channels,
      tail,
      exited: record.exited,
      exit: () => record.exit,
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // EOF on its channel makes the fork server exit (so no signal is sent first); workers still
    // starting follow it (PDEATHSIG, server pipe). SIGKILL after the grace period.
    if (this.#child.connected) this.#child.disconnect();
    await this.#stop(this.pid, null, this.exited);
    // Serving workers outlive the server by design, so they are stopped here: SIGTERM (a
    // graceful shutdown), SIGKILL after the grace period.
    await Promise.all(
      [...this.#children.values()].map((record) =>
        this.#stop(record.pid, "SIGTERM", record.exited),
      ),
    );
  }

  /** Stops one process group with escalation; resolves once its `exited` has settled too. */
  async #stop(pid: number, firstSignal: NodeJS.Signals | null, exited: Promise<WorkerExit>) {
    if (pid > 0) await killWithEscalation(pid, { firstSignal, graceMs: CLOSE_GRACE_MS, exited });
    await exited;
  }

  #onMessage(message: ServerMessage, handle: Socket | undefined): void {
    const pending = message.ref === undefined ? undefined : this.#pending.get(message.ref);
    switch (message.event) {
      case "fd": {
        if (handle === undefined || message.stream === undefined) return;
        if (pending === undefined) return void handle.destroy();
        pending.channels[message.stream] = handle;
        const stream = message.stream;
        // Read output at once, so nothing is lost before the worker is ready.
        if (stream === "stdout" || stream === "stderr")
          splitLines(handle, (line) => {
            pending.tail.push(line);
            pending.onOutput?.(line, stream);
          });
        return;
      }
      case "forked":
        this.#onForked(message, pending);
        return;
      case "fork-failed":
        if (message.ref !== undefined)
          this.#failPending(message.ref, "WORKER_START_FAILED", message.message ?? "fork failed");
        return;
      case "exited": {
        const record = message.pid === undefined ? undefined : this.#children.get(message.pid);
        record?.finish({
          code: typeof message.code === "number" ? message.code : null,
          signal: message.signal ?? null,
        });
        return;
      }
      default:
        handle?.destroy();
    }
  }

  #onForked(message: ServerMessage, pending: PendingFork | undefined): void {
    const { pid } = message;
    if (pending === undefined || message.ref === undefined || typeof pid !== "number") return;
    this.#pending.delete(message.ref);
    const { control, stdout, stderr, frames } = pending.channels;
    if (
      control === undefined ||
      stdout === undefined ||
      stderr === undefined ||
      (pending.frames && frames === undefined)
    ) {
      for (const socket of [control, stdout, stderr, frames]) socket?.destroy();
      const error = new SnakepitError(
        "PROTOCOL_ERROR",
        `Fork server sent pid ${pid} without its sockets`,
      );
      // Fail the fork once the child is gone (a kill that fails cannot make this error better).
      void killWithEscalation(pid, { firstSignal: "SIGKILL", graceMs: 0 })
        .catch(() => undefined)
        .then(() => pending.failed(error));
      return;
    }
    let finish: (exit: WorkerExit) => void = () => undefined;
    const record: ChildRecord = {
      pid,
      channels: { control, stdout, stderr, frames },
      exit: undefined,
      exited: new Promise<WorkerExit>((resolve) => {
        finish = resolve;
      }),
      finish: (exit) => {
        if (record.exit !== undefined) return;
        record.exit = exit;
        this.#children.delete(pid);
        finish(exit);
      },
    };
    this.#children.set(pid, record);
    pending.forked(record);
  }

  #failPending(ref: number, code: ErrorCode, message: string): void {
    const pending = this.#pending.get(ref);
    if (pending === undefined) return;
    this.#pending.delete(ref);
    for (const socket of Object.values(pending.channels)) socket?.destroy();
    pending.failed(new SnakepitError(code, `Fork server could not fork: ${message}`));
  }

  #onServerExit(): void {
    for (const ref of [...this.#pending.keys()])
      this.#failPending(ref, "WORKER_START_FAILED", "the fork server exited");
    // Nobody reaps the orphans for us now: a child is gone once its control socket has closed
    // and its pid is no longer running (exit status unknown).
    for (const record of this.#children.values()) {
      const closed = record.channels.control.closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => record.channels.control.once("close", () => resolve()));
      void closed
        .then(() => waitUntilGone(record.pid))
        .then(() => record.finish({ code: null, signal: null }));
    }
  }
}
