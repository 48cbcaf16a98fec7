"""Rejects calls that lack the per-run secret (`x-snakepit-secret`) when one is configured."""

from __future__ import annotations

import hmac
from typing import Any, Callable, Iterator

import grpc

from ..gen.constants import SECRET_METADATA


def _deny(request: object, context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or wrong {SECRET_METADATA}")


def _deny_stream(request: object, context: grpc.ServicerContext) -> Iterator[None]:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or wrong {SECRET_METADATA}")
    yield  # pragma: no cover - makes this a generator for server-streaming RPCs


# grpcio ships no type information, so its base class is `Any` to mypy.
class SecretInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], handler_call_details: grpc.HandlerCallDetails
    ) -> Any:
        supplied = dict(handler_call_details.invocation_metadata or ()).get(SECRET_METADATA, "")
        if isinstance(supplied, str):
            supplied = supplied.encode("utf-8")
        if hmac.compare_digest(supplied, self._secret):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is not None and handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(_deny_stream)
        return grpc.unary_unary_rpc_method_handler(_deny)
