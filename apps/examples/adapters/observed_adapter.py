"""The observability example's Python side: tools that log, so their lines carry the call's correlation id."""

import logging

from snakepit_bridge import Adapter, current_call, tool

log = logging.getLogger("observed")


class ObservedAdapter(Adapter):
    @tool
    def score(self, text: str) -> float:
        """A toy sentiment score; logs what it did."""
        good = sum(text.count(w) for w in ("good", "great", "fast"))
        bad = sum(text.count(w) for w in ("bad", "slow"))
        log.info("scored %d chars for session %s", len(text), current_call().session_id or "-")
        return (good - bad) / max(1, good + bad)

    @tool
    def explode(self):
        """Always fails, to show error metrics and error logs."""
        log.error("about to fail")
        raise RuntimeError("kaboom")
