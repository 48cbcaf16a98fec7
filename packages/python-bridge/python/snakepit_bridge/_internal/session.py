"""Session state kept by the host, versioned: a read cache revalidated by version, writes through.

Every session has a version that the host's store raises on each write (0: no such session).
The worker caches values with the version they were read at and sends that version with the
next read; the host answers "unchanged" (no values travel) or the new values. So a read never
returns a value older than the store's, whichever host or worker wrote it.

Within one call, a write after a read is conditional on the version read: if any other call,
on any host, wrote the session in between, the write fails with `SESSION_CONFLICT` instead of
silently overwriting it. `SessionContext.update` retries such a read-modify-write.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Tuple

from ..gen.constants import SESSION_CONFLICT
from .errors import BridgeError

_MISSING = object()
_MAX_CACHED_SESSIONS = 1_000
_UPDATE_ATTEMPTS = 100
_IMMUTABLE = (str, int, float, bool, bytes, type(None))


class SessionError(BridgeError):
    """A session operation the host refused, with its Snakepit code.

    `SESSION_CONFLICT` (another call wrote the session since this call read it),
    `SESSION_STORE_UNAVAILABLE` (the host's store cannot be reached) or `INVALID_ARGUMENTS`
    (a bad session id, key or value). Raised out of a tool, the call fails with that code.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, type="snakepit_bridge.SessionError")


SessionError.__module__ = "snakepit_bridge"


class SessionTransport(Protocol):
    """The host service calls a store needs (implemented by `HostClient`)."""

    def get_session_state(
        self, session_id: str, keys: List[str], known_version: Optional[int]
    ) -> Tuple[Dict[str, Any], int, bool]: ...

    def set_session_state(self, session_id: str, values: Mapping[str, Any], if_version: Optional[int]) -> int: ...

    def delete_session_state(self, session_id: str, keys: List[str], if_version: Optional[int]) -> int: ...


@dataclass
class _Cached:
    """What this worker knows of one session: values (or `_MISSING`) valid at `version`."""

    version: int
    values: Dict[str, Any] = field(default_factory=dict)


def _copy(value: Any) -> Any:
    # A tool that mutates what it read must not change what the cache serves next.
    return value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value)


class SessionStore:
    """One per worker: the versioned read cache over the host's session state."""

    def __init__(self, transport: SessionTransport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._cache: Dict[str, _Cached] = {}

    def read(self, session_id: str, keys: Iterable[str]) -> Tuple[Dict[str, Any], int]:
        """The values of `keys` (every key when empty) that exist, and the version read."""
        keys = list(keys)
        known: Optional[int] = None
        held: Dict[str, Any] = {}
        with self._lock:
            entry = self._cache.get(session_id)
            if entry is not None and keys and all(k in entry.values for k in keys):
                known = entry.version
                held = {k: entry.values[k] for k in keys}
        values, version, unchanged = self._transport.get_session_state(session_id, keys, known)
        if unchanged and known is not None:
            return {k: _copy(v) for k, v in held.items() if v is not _MISSING}, version
        with self._lock:
            entry = self._cache.get(session_id)
            if entry is None or entry.version != version:
                if len(self._cache) >= _MAX_CACHED_SESSIONS:
                    self._cache.clear()
                entry = self._cache[session_id] = _Cached(version)
            if keys:
                for key in keys:
                    entry.values[key] = values.get(key, _MISSING)
            else:
                entry.values.update(values)
        return {k: _copy(v) for k, v in values.items()}, version

    def write(self, session_id: str, values: Mapping[str, Any], if_version: Optional[int]) -> int:
        """Writes `values`; returns the new version. Conditional when `if_version` is given."""
        try:
            version = self._transport.set_session_state(session_id, values, if_version)
        except SessionError:
            self.forget(session_id)
            raise
        self._after_write(session_id, version, {k: _copy(v) for k, v in values.items()})
        return version

    def delete(self, session_id: str, keys: Iterable[str], if_version: Optional[int]) -> int:
        """Deletes `keys`; returns the new version. Conditional when `if_version` is given."""
        keys = list(keys)
        try:
            version = self._transport.delete_session_state(session_id, keys, if_version)
        except SessionError:
            self.forget(session_id)
            raise
        self._after_write(session_id, version, dict.fromkeys(keys, _MISSING))
        return version

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._cache.pop(session_id, None)

    def _after_write(self, session_id: str, version: int, written: Dict[str, Any]) -> None:
        with self._lock:
            entry = self._cache.get(session_id)
            # Versions grow with every write, so "one below ours" means no other write came between:
            # what we cached then plus what we wrote is the state now. Otherwise only our keys are known.
            if entry is not None and entry.version == version - 1:
                entry.values.update(written)
                entry.version = version
            else:
                self._cache[session_id] = _Cached(version, dict(written))


class SessionContext:
    """The state of one user session, stored by the host (`current_call().session`).

    Values are JSON data or bytes. Reads are never stale: a cached value is revalidated with
    the host by version. A write after a read in the same call is conditional on the version
    read and raises `SessionError` (`SESSION_CONFLICT`) if another call, on any host, wrote
    the session in between; `update` retries a read-modify-write until it wins.
    """

    def __init__(self, session_id: str, store: SessionStore) -> None:
        self.session_id = session_id
        self._store = store
        self._read_version: Optional[int] = None

    @property
    def version(self) -> Optional[int]:
        """The session version this call last read or wrote after reading; None before a read."""
        return self._read_version

    def get(self, key: str, default: Any = None) -> Any:
        return self.get_many([key]).get(key, default)

    def get_many(self, keys: Iterable[str]) -> Dict[str, Any]:
        values, self._read_version = self._store.read(self.session_id, keys)
        return values

    def set(self, key: str, value: Any) -> None:
        self.set_many({key: value})

    def set_many(self, values: Mapping[str, Any]) -> None:
        version = self._store.write(self.session_id, values, self._read_version)
        if self._read_version is not None:
            self._read_version = version

    def delete(self, key: str) -> None:
        version = self._store.delete(self.session_id, [key], self._read_version)
        if self._read_version is not None:
            self._read_version = version

    def update(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """Sets `key` to `fn(current value or default)` atomically; returns the new value.

        Reads, computes and writes conditionally on the version read; when another call wrote
        the session in between it reads again and retries (with a short random pause), up to
        100 times, then raises `SessionError` (`SESSION_CONFLICT`). `fn` may run more than once.
        """
        for attempt in range(_UPDATE_ATTEMPTS):
            values, version = self._store.read(self.session_id, [key])
            new = fn(values.get(key, default))
            try:
                self._read_version = self._store.write(self.session_id, {key: new}, version)
                return new
            except SessionError as error:
                if error.code != SESSION_CONFLICT or attempt == _UPDATE_ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    def __repr__(self) -> str:
        return f"SessionContext({self.session_id!r})"


def session_for(session_id: str, store: Optional[SessionStore]) -> Optional[SessionContext]:
    if not session_id or store is None:
        return None
    return SessionContext(session_id, store)
