"""`python -m snakepit_bridge ...`: the worker entry point."""

import os

# Before grpc is imported anywhere: workers never fork after a channel/server exists, and logs
# must reach the host immediately.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
os.environ.setdefault("PYTHONUNBUFFERED", "1")

import sys

from snakepit_bridge._internal.worker import main

if __name__ == "__main__":
    sys.exit(main())
