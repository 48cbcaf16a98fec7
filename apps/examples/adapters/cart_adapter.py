"""The two-host example's tools: a shopping cart kept in session state, shared by every host."""

import os

from snakepit_bridge import Adapter, current_call, tool


class CartAdapter(Adapter):
    @tool
    def add_to_cart(self, item: str) -> list:
        """Add `item` to the session's cart (a retried read-modify-write: no host's add is lost)."""
        return current_call().session.update("cart", lambda cart: [*cart, item], default=[])

    @tool
    def cart(self) -> dict:
        """The session's cart, and which worker process read it."""
        return {"items": current_call().session.get("cart", []), "pid": os.getpid()}

    @tool
    def count_visit(self) -> int:
        """Count one visit of the session; return the count."""
        return current_call().session.update("visits", lambda n: n + 1, default=0)
