"""Session state kept by the host, read through a short-lived cache, written through."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, Iterable, Mapping, Optional, Protocol, Tuple

_MISSING = object()
_MAX_CACHED_ENTRIES = 10_000


class SessionTransport(Protocol):
    """The host service calls a store needs (implemented by `HostClient`)."""

    def get_session_state(self, session_id: str, keys: Iterable[str]) -> Tuple[Dict[str, Any], int]: ...

    def set_session_state(self, session_id: str, values: Mapping[str, Any]) -> None: ...

    def delete_session_state(self, session_id: str, keys: Iterable[str]) -> None: ...


class SessionStore:
    """One per worker: a read cache over the host's session state.

    Reads are cached for the `cache_ttl_ms` the host returns, so a hot loop of reads costs one
    RPC; writes go to the host immediately and update the cache.
    """

    def __init__(self, transport: SessionTransport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._cache: Dict[Tuple[str, str], Tuple[Any, float]] = {}

    def _cached(self, session_id: str, key: str) -> Any:
        entry = self._cache.get((session_id, key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry

    def _remember(self, session_id: str, values: Mapping[str, Any], ttl_ms: int) -> None:
        if ttl_ms <= 0:
            for key in values:
                self._cache.pop((session_id, key), None)
            return
        if len(self._cache) > _MAX_CACHED_ENTRIES:
            self._cache.clear()
        expires = time.monotonic() + ttl_ms / 1000
        for key, value in values.items():
            self._cache[(session_id, key)] = (value, expires)

    def get_many(self, session_id: str, keys: Iterable[str]) -> Dict[str, Any]:
        keys = list(keys)
        result: Dict[str, Any] = {}
        missing = []
        with self._lock:
            for key in keys:
                entry = self._cached(session_id, key)
                if entry is None:
                    missing.append(key)
                elif entry[0] is not _MISSING:
                    result[key] = entry[0]
        if missing:
            values, ttl_ms = self._transport.get_session_state(session_id, missing)
            with self._lock:
                self._remember(session_id, {key: values.get(key, _MISSING) for key in missing}, ttl_ms)
            result.update(values)
        return result

    def set_many(self, session_id: str, values: Mapping[str, Any]) -> None:
        self._transport.set_session_state(session_id, values)
        with self._lock:
            for key, value in values.items():
                entry = self._cache.get((session_id, key))
                if entry is not None:
                    self._cache[(session_id, key)] = (value, entry[1])

    def delete(self, session_id: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._transport.delete_session_state(session_id, keys)
        with self._lock:
            for key in keys:
                entry = self._cache.get((session_id, key))
                if entry is not None:
                    self._cache[(session_id, key)] = (_MISSING, entry[1])


class SessionContext:
    """The state of one user session, stored by the host (`current_call().session`).

    Values are JSON data or bytes. Reads may be served from a cache for the host's TTL.
    """

    def __init__(self, session_id: str, store: SessionStore) -> None:
        self.session_id = session_id
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get_many(self.session_id, [key]).get(key, default)

    def get_many(self, keys: Iterable[str]) -> Dict[str, Any]:
        return self._store.get_many(self.session_id, keys)

    def set(self, key: str, value: Any) -> None:
        self._store.set_many(self.session_id, {key: value})

    def set_many(self, values: Mapping[str, Any]) -> None:
        self._store.set_many(self.session_id, values)

    def delete(self, key: str) -> None:
        self._store.delete(self.session_id, [key])

    def __repr__(self) -> str:
        return f"SessionContext({self.session_id!r})"


def session_for(session_id: str, store: Optional[SessionStore]) -> Optional[SessionContext]:
    if not session_id or store is None:
        return None
    return SessionContext(session_id, store)
