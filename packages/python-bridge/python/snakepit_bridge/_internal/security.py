"""Rejects calls that lack the per-run secret (`x-snakepit-secret`) when one is configured."""

from __future__ import annotations

import hmac

import grpc

SECRET_METADATA = "x-snakepit-secret"


def _deny(request, context):  # noqa: ANN001 - grpc handler signature
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong x-snakepit-secret")


def _deny_stream(request, context):  # noqa: ANN001
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong x-snakepit-secret")
    yield  # pragma: no cover - makes this a generator for server-streaming RPCs


class SecretInterceptor(grpc.ServerInterceptor):
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001
        supplied = dict(handler_call_details.invocation_metadata or ()).get(SECRET_METADATA, "")
        if isinstance(supplied, str):
            supplied = supplied.encode("utf-8")
        if hmac.compare_digest(supplied, self._secret):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is not None and handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(_deny_stream)
        return grpc.unary_unary_rpc_method_handler(_deny)
