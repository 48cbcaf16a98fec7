import { expectString, invalidOption } from "@snakepit/errors";

/** The states the pool and lifecycle packages use by default; pass your own union if needed. */
export type WorkerState = "starting" | "idle" | "busy" | "draining" | "stopping" | "stopped";

/** One worker as the host sees it right now (not persisted; see `ProcessRegistry` for that). */
export interface WorkerEntry<State extends string = WorkerState> {
  readonly workerId: string;
  readonly poolName: string;
  readonly state: State;
  /** Known once the OS has spawned it. */
  readonly pid?: number;
  /** `Date.now()` when the worker was added, in milliseconds since the epoch. */
  readonly startedAt: number;
  /** Calls completed by this worker. */
  readonly callsServed: number;
  /** Calls running on this worker now. */
  readonly inFlight: number;
  /** Resident memory at the last measurement, in bytes. */
  readonly lastMemoryBytes?: number;
}

/** The fields {@link WorkerTable.update} may change. */
export type WorkerPatch<State extends string = WorkerState> = Partial<
  Omit<WorkerEntry<State>, "workerId" | "poolName" | "startedAt">
>;

/** What {@link WorkerTable.add} needs; counters start at 0 and `startedAt` at now unless given. */
export type NewWorkerEntry<State extends string = WorkerState> = Pick<
  WorkerEntry<State>,
  "workerId" | "poolName" | "state"
> &
  Partial<WorkerEntry<State>>;

/** Filter of {@link WorkerTable.list}. */
export interface WorkerFilter<State extends string = WorkerState> {
  poolName?: string;
  state?: State;
}

/**
 * The in-memory table of live workers that the pool and the lifecycle manager share: worker id
 * → pool, state, pid, counters. Entries come back as frozen snapshots, so a reader can never
 * change the table behind its owner's back; only {@link WorkerTable.update} does.
 */
export interface WorkerTable<State extends string = WorkerState> {
  /** Adds a worker; throws `INVALID_OPTIONS` if the id is taken. Returns the entry. */
  add(entry: NewWorkerEntry<State>): WorkerEntry<State>;
  /** Changes fields of a worker; throws `INVALID_OPTIONS` if unknown. Returns the new entry. */
  update(workerId: string, patch: WorkerPatch<State>): WorkerEntry<State>;
  get(workerId: string): WorkerEntry<State> | undefined;
  /** Removes a worker; true when it was there. */
  remove(workerId: string): boolean;
  /** Workers in insertion order, optionally only one pool's and/or one state's. */
  list(filter?: WorkerFilter<State>): WorkerEntry<State>[];
  /** How many workers are in each state (states with none are absent), optionally for one pool. */
  countByState(poolName?: string): Partial<Record<State, number>>;
  readonly size: number;
}

/** Creates an empty {@link WorkerTable}. */
export function createWorkerTable<State extends string = WorkerState>(): WorkerTable<State> {
  const entries = new Map<string, WorkerEntry<State>>();
  const known = (workerId: string) => {
    const entry = entries.get(workerId);
    if (entry === undefined) throw invalidOption("workerId", "a worker in the table", workerId);
    return entry;
  };
  return {
    add(entry) {
      expectString("workerId", entry.workerId);
      if (entries.has(entry.workerId)) {
        throw invalidOption("workerId", "an id not already in the table", entry.workerId);
      }
      const added = Object.freeze({ startedAt: Date.now(), callsServed: 0, inFlight: 0, ...entry });
      entries.set(entry.workerId, added);
      return added;
    },
    update(workerId, patch) {
      const {
        workerId: _id,
        poolName: _pool,
        startedAt: _at,
        ...allowed
      } = patch as WorkerEntry<State>;
      const updated = Object.freeze({ ...known(workerId), ...allowed });
      entries.set(workerId, updated);
      return updated;
    },
    get: (workerId) => entries.get(workerId),
    remove: (workerId) => entries.delete(workerId),
    list(filter = {}) {
      return [...entries.values()].filter(
        (e) =>
          (filter.poolName === undefined || e.poolName === filter.poolName) &&
          (filter.state === undefined || e.state === filter.state),
      );
    },
    countByState(poolName) {
      const counts: Partial<Record<State, number>> = {};
      for (const e of entries.values()) {
        if (poolName === undefined || e.poolName === poolName) {
          counts[e.state] = (counts[e.state] ?? 0) + 1;
        }
      }
      return counts;
    },
    get size() {
      return entries.size;
    },
  };
}
