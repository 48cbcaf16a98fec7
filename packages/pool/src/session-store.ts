/**
 * Where session state lives: on the host, so Python workers stay stateless and any worker can
 * serve any session. The default is in memory; the interface lets a shared store be plugged in.
 */
export interface SessionStore {
  get(
    sessionId: string,
    keys: readonly string[],
  ): Promise<Record<string, unknown>> | Record<string, unknown>;
  set(sessionId: string, values: Readonly<Record<string, unknown>>): Promise<void> | void;
  delete(sessionId: string, keys: readonly string[]): Promise<void> | void;
  /** Drops a whole session. */
  clear(sessionId: string): Promise<void> | void;
  /** Releases timers and memory. */
  close(): void;
}

/** Options of {@link createMemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** A session untouched (read or written) for this long is dropped, in milliseconds. Default 3600000 (1 h). */
  readonly ttlMs?: number;
}

interface Session {
  values: Map<string, unknown>;
  touchedAt: number;
}

/** The default {@link SessionStore}: a map per session, expired lazily and by an unref'd sweep. */
export function createMemorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const sessions = new Map<string, Session>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of sessions) if (now - s.touchedAt > ttlMs) sessions.delete(id);
    },
    Math.min(ttlMs, 60_000),
  );
  sweep.unref();

  function session(id: string, create: boolean): Session | undefined {
    let s = sessions.get(id);
    if (s !== undefined && Date.now() - s.touchedAt > ttlMs) {
      sessions.delete(id);
      s = undefined;
    }
    if (s === undefined && create) {
      s = { values: new Map(), touchedAt: Date.now() };
      sessions.set(id, s);
    }
    if (s !== undefined) s.touchedAt = Date.now();
    return s;
  }

  return {
    get(id, keys) {
      const s = session(id, false);
      const out: Record<string, unknown> = {};
      if (s === undefined) return out;
      for (const key of keys.length === 0 ? s.values.keys() : keys) {
        if (s.values.has(key)) out[key] = s.values.get(key);
      }
      return out;
    },
    set(id, values) {
      const s = session(id, true) as Session;
      for (const [k, v] of Object.entries(values)) s.values.set(k, v);
    },
    delete(id, keys) {
      const s = session(id, false);
      for (const key of keys) s?.values.delete(key);
    },
    clear(id) {
      sessions.delete(id);
    },
    close() {
      clearInterval(sweep);
      sessions.clear();
    },
  };
}
