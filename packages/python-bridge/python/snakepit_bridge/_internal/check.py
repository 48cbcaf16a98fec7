"""`--check`: report the environment and whether the adapter loads, as one JSON object on stdout."""

from __future__ import annotations

import json
import platform
import sys
from typing import Optional

from .errors import error_info
from .version import __version__


def run_check(adapter_spec: Optional[str]) -> int:
    report = {"ok": False, "python": platform.python_version(), "executable": sys.executable, "grpcio": None,
              "protobuf": None, "bridge": __version__, "adapter": adapter_spec, "tools": [], "error": None}
    try:
        import grpc
        from google.protobuf import __version__ as protobuf_version

        report["grpcio"] = grpc.__version__
        report["protobuf"] = protobuf_version
        from ..gen import worker_pb2_grpc  # noqa: F401 - proves the generated stubs import

        if adapter_spec:
            from .adapter import load_adapter

            report["tools"] = sorted(load_adapter(adapter_spec).tools)
        report["ok"] = True
    except BaseException as error:  # noqa: BLE001 - the report must always be printed
        report["error"] = error_info(error)
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0 if report["ok"] else 1
