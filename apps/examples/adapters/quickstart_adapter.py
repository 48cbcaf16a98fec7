"""The quickstart's Python side: a few tools a Node host calls through a Snakepit pool."""

import logging
import os
import time

from snakepit_bridge import Adapter, tool

log = logging.getLogger(__name__)


class QuickstartAdapter(Adapter):
    @tool
    def word_count(self, text: str) -> dict:
        """Count the words of a text.

        Args:
            text: Any text.
        """
        words = text.split()
        log.info("counted %d words", len(words))
        return {"words": len(words), "unique": len({w.lower() for w in words}), "pid": os.getpid()}

    @tool
    def fibonacci(self, n: int) -> int:
        """The n-th Fibonacci number, computed the slow way (CPU work in Python)."""
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a

    @tool
    def tokens(self, text: str, delay: float = 0.05):
        """Stream the words of a text one at a time, like a model streaming tokens."""
        for word in text.split():
            time.sleep(delay)
            yield word

    @tool
    def divide(self, a: float, b: float) -> float:
        """Divide a by b (raises ZeroDivisionError for b == 0)."""
        return a / b
