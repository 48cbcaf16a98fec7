/** The host process that owns a run: enough to tell later whether it is still the same process. */
export interface HostRecord {
  readonly pid: number;
  /** Opaque start time from `readProcessIdentity` (a reused pid has another one). */
  readonly startTime: number;
  /** `os.hostname()`: a data dir shared between machines never sweeps another machine's runs. */
  readonly hostname: string;
}

/** A worker recorded before it was spawned: no pid yet. */
export interface ReservedWorkerRecord {
  readonly workerId: string;
  readonly status: "reserved";
  readonly poolName?: string;
  readonly command?: string;
  /** ISO 8601 time of the reservation. */
  readonly reservedAt: string;
}

/** A worker the OS has given a pid. */
export interface ActiveWorkerRecord extends Omit<ReservedWorkerRecord, "status"> {
  readonly status: "active";
  readonly pid: number;
  readonly pgid: number;
  readonly startTime: number;
  /** ISO 8601 time of the activation. */
  readonly activatedAt: string;
}

/** One worker of a run, reserved (before spawn) or active (pid known). */
export type WorkerRecord = ReservedWorkerRecord | ActiveWorkerRecord;

/** Everything stored about one host run; the unit the store reads and writes. */
export interface RunDocument {
  readonly version: 1;
  readonly runId: string;
  readonly host: HostRecord;
  /** ISO 8601 time the run was registered. */
  readonly createdAt: string;
  readonly workers: Readonly<Record<string, WorkerRecord>>;
}

/** Who holds a sweep lock: a process identity plus a token unique to one acquisition. */
export interface LockOwner {
  readonly pid: number;
  readonly startTime: number;
  readonly token: string;
}

/** The answer of {@link RegistryStore.lockRun}: held by us (release it), or by a live sweeper. */
export type RunLock =
  | { readonly acquired: true; release(): Promise<void> }
  | { readonly acquired: false; readonly holder: LockOwner | undefined };

/**
 * Where run documents live. The default is {@link createFileStore}; another backend (SQLite, a
 * server) implements these six members. Writes must be durable when their promise resolves:
 * a host SIGKILLed right after must leave them readable.
 */
export interface RegistryStore {
  /** Human-readable place, for reports (e.g. the data directory). */
  readonly location: string;
  /** Run ids with a document. */
  listRuns(): Promise<string[]>;
  /** The run's document, or `undefined` when there is none. */
  readRun(runId: string): Promise<RunDocument | undefined>;
  /** Replaces the run's document atomically and durably. */
  writeRun(doc: RunDocument): Promise<void>;
  /** Deletes the run's document (no error when absent). */
  deleteRun(runId: string): Promise<void>;
  /**
   * Takes the exclusive sweep lock of a run so two sweeping hosts never work on one run. A lock
   * whose holder process is dead is taken over.
   */
  lockRun(runId: string, owner: LockOwner): Promise<RunLock>;
}
