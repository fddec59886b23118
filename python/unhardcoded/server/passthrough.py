"""A bare pass-through proxy on the router's own stack (Starlette raw route, orjson-free byte relay,
one pooled httpx.AsyncClient): no admission, routing or trace. Used only as the benchmark floor the
router's overhead is measured against (benches/); never served to users."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..providers.lean_pool import lean_pools


def create_passthrough_app(upstream_base_url: str, api_key: str | None = None,
                           client: httpx.AsyncClient | None = None) -> Starlette:
    """POST /v1/chat/completions is forwarded to `<upstream_base_url>/chat/completions` as is."""
    url = upstream_base_url.rstrip("/") + "/chat/completions"
    http = client
    if http is None:
        http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0),
                                 limits=httpx.Limits(max_connections=1024, max_keepalive_connections=256))
        # The same pool the router's client uses (server/host.py), so the floor is the same stack.
        lean_pools(http)
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"

    async def chat(request: Request) -> Response:
        body = await request.body()
        if b'"stream":true' in body or b'"stream": true' in body:
            upstream = await http.send(http.build_request("POST", url, content=body, headers=headers), stream=True)

            async def relay() -> AsyncIterator[bytes]:
                try:
                    async for chunk in upstream.aiter_raw():
                        yield chunk
                finally:
                    await upstream.aclose()

            return StreamingResponse(relay(), status_code=upstream.status_code,
                                     media_type=upstream.headers.get("content-type", "text/event-stream"))
        upstream = await http.post(url, content=body, headers=headers)
        return Response(upstream.content, status_code=upstream.status_code,
                        media_type=upstream.headers.get("content-type", "application/json"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if client is None:
            await http.aclose()

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])], lifespan=lifespan)
