"""Runs the bare pass-through proxy (unhardcoded.server.passthrough) on the same uvicorn and
garbage-collector settings `unhardcoded serve` uses (uvloop, httptools, no access log,
server/gc_tuning.py), for benches/router_overhead.py.

    python benches/serve_passthrough.py --port 18002 --upstream http://127.0.0.1:18001/v1
"""
from __future__ import annotations

import argparse
import os

import uvicorn
from unhardcoded.server.gc_tuning import tune_for_serving
from unhardcoded.server.passthrough import create_passthrough_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL ending in /v1")
    parser.add_argument("--api-key-env", help="environment variable holding the upstream key")
    args = parser.parse_args()
    key = os.environ.get(args.api_key_env) if args.api_key_env else None
    app = create_passthrough_app(args.upstream, api_key=key)
    tune_for_serving()
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_level="warning",
                access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
