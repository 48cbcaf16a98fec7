import { SnakepitError } from "@snakepit/errors";
import {
  decodeSessionValue,
  encodeSessionValue,
  validateSessionId,
  validateSessionKey,
} from "./session-input.js";

/** What a read returns: the values found and the session's version when they were read. */
export interface SessionSnapshot {
  /**
   * The session's version: `0` when the session does not exist (never written, cleared or
   * expired), else a positive safe integer that grows with every write and is never reused for
   * the same session id (a recreated session starts above the old one's versions).
   */
  readonly version: number;
  /** The values of the requested keys that exist (every key when none were requested). */
  readonly values: Record<string, unknown>;
}

/** Options of every {@link SessionStore} operation. */
export interface SessionOperationOptions {
  /** Abandons the operation (`ABORTED`); a write may still have happened. Default: none. */
  readonly signal?: AbortSignal;
}

/** Options of the writing {@link SessionStore} operations. */
export interface SessionWriteOptions extends SessionOperationOptions {
  /**
   * Write only if the session is still at this version (`0`: only if it does not exist);
   * otherwise nothing is written and the write throws `SESSION_CONFLICT` with the current
   * version in `err.details.version`. Default: write whatever the version.
   */
  readonly ifVersion?: number;
}

/**
 * Where session state lives: on the host side, so Python workers stay stateless and any worker
 * (on any host sharing the store) can serve any session. The default is in memory
 * ({@link createMemorySessionStore}); `@snakepit/session-redis` shares it between hosts.
 *
 * The contract every store keeps (one test suite checks the memory and the Redis store):
 * - A session is a map of keys to values plus a version. Every write (`set`, `delete` of a
 *   session that exists) is atomic and gives the session a new, higher version.
 * - A write with `ifVersion` is conditional: it fails with `SESSION_CONFLICT` and changes nothing
 *   when another write came first. That is how no update is ever silently lost.
 * - Every operation on a session slides its idle TTL (`touch` only slides it); a session idle for
 *   the TTL is gone, on every host.
 * - Bad input throws `INVALID_ARGUMENTS`: a session id that is not a string of 1–256 characters,
 *   a key that is not a string of 1–1024 characters, a value {@link encodeSessionValue} refuses.
 * - A store that cannot be reached throws `SESSION_STORE_UNAVAILABLE`, within a bounded time.
 */
export interface SessionStore {
  /**
   * Checks that the store can serve (connects, authenticates, speaks the protocol); rejects with
   * a coded error otherwise. The pool awaits it in `ready()`, so a misconfigured store fails at
   * start-up, not at the first call. Optional; idempotent.
   */
  ready?(options?: SessionOperationOptions): Promise<void>;
  /** Reads `keys` (every key when empty) and the version they were read at. */
  get(
    sessionId: string,
    keys: readonly string[],
    options?: SessionOperationOptions,
  ): Promise<SessionSnapshot> | SessionSnapshot;
  /** The session's version alone (cheap: to check a cache). */
  version(sessionId: string, options?: SessionOperationOptions): Promise<number> | number;
  /** Writes `values` (other keys are kept); returns the new version. */
  set(
    sessionId: string,
    values: Readonly<Record<string, unknown>>,
    options?: SessionWriteOptions,
  ): Promise<number> | number;
  /** Deletes `keys`; returns the new version (`0` when the session does not exist). */
  delete(
    sessionId: string,
    keys: readonly string[],
    options?: SessionWriteOptions,
  ): Promise<number> | number;
  /** Slides the session's idle TTL; false when it does not exist. */
  touch(sessionId: string, options?: SessionOperationOptions): Promise<boolean> | boolean;
  /** Drops a whole session. */
  clear(sessionId: string, options?: SessionOperationOptions): Promise<void> | void;
  /** Releases timers, memory and connections it owns. Idempotent. */
  close(): Promise<void> | void;
}

/** Options of {@link createMemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** A session untouched (read or written) for this long is dropped, in milliseconds. Default 3600000 (1 h). */
  readonly ttlMs?: number;
}

interface Session {
  readonly values: Map<string, Uint8Array>;
  version: number;
  touchedAt: number;
}

/**
 * Throws the `SESSION_CONFLICT` of a conditional write that lost, with the current version in
 * `details.version`. For store implementations, so every store says it the same way.
 */
export function sessionConflict(sessionId: string, expected: number, actual: number): never {
  throw new SnakepitError(
    "SESSION_CONFLICT",
    `Session ${JSON.stringify(sessionId)} is at version ${actual}, not ${expected}: another call wrote it since it was read`,
    { details: { sessionId, expected, version: actual } },
  );
}

/**
 * The default {@link SessionStore}: one process's memory, a map per session, expired lazily
 * and by an unref'd sweep. Values are stored encoded ({@link encodeSessionValue}), so it refuses
 * and returns exactly what a shared store would.
 */
export function createMemorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const sessions = new Map<string, Session>();
  // Versions come from one clock per store, started at the wall clock in microseconds, so a
  // session dropped and created again never repeats a version a reader may have cached.
  let clock = Date.now() * 1000;
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of sessions) if (now - s.touchedAt > ttlMs) sessions.delete(id);
    },
    Math.min(ttlMs, 60_000),
  );
  sweep.unref();

  function session(id: string, create: boolean): Session | undefined {
    validateSessionId(id);
    let s = sessions.get(id);
    if (s !== undefined && Date.now() - s.touchedAt > ttlMs) {
      sessions.delete(id);
      s = undefined;
    }
    if (s === undefined && create) {
      s = { values: new Map(), version: 0, touchedAt: Date.now() };
      sessions.set(id, s);
    }
    if (s !== undefined) s.touchedAt = Date.now();
    return s;
  }

  function check(id: string, current: number, opts: SessionWriteOptions | undefined): void {
    opts?.signal?.throwIfAborted();
    if (opts?.ifVersion !== undefined && opts.ifVersion !== current) {
      sessionConflict(id, opts.ifVersion, current);
    }
  }

  return {
    get(id, keys) {
      for (const key of keys) validateSessionKey(key);
      const s = session(id, false);
      const values: Record<string, unknown> = {};
      if (s === undefined) return { version: 0, values };
      for (const key of keys.length === 0 ? s.values.keys() : keys) {
        const encoded = s.values.get(key);
        if (encoded !== undefined) values[key] = decodeSessionValue(encoded);
      }
      return { version: s.version, values };
    },
    version(id) {
      return session(id, false)?.version ?? 0;
    },
    set(id, values, opts) {
      const encoded = Object.entries(values).map(([k, v]) => {
        validateSessionKey(k);
        return [k, encodeSessionValue(k, v)] as const;
      });
      const existing = session(id, false);
      check(id, existing?.version ?? 0, opts);
      if (encoded.length === 0) return existing?.version ?? 0;
      const s = existing ?? (session(id, true) as Session);
      for (const [k, v] of encoded) s.values.set(k, v);
      s.version = ++clock;
      return s.version;
    },
    delete(id, keys, opts) {
      for (const key of keys) validateSessionKey(key);
      const s = session(id, false);
      check(id, s?.version ?? 0, opts);
      if (s === undefined) return 0;
      for (const key of keys) s.values.delete(key);
      if (keys.length > 0) s.version = ++clock;
      return s.version;
    },
    touch(id) {
      return session(id, false) !== undefined;
    },
    clear(id) {
      validateSessionId(id);
      sessions.delete(id);
    },
    close() {
      clearInterval(sweep);
      sessions.clear();
    },
  };
}
