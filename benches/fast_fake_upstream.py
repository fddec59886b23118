"""A deliberately minimal OpenAI-compatible upstream for the router overhead benchmark.

Every request (any method, any path) gets the same small `chat.completion` over HTTP/1.1
keep-alive. It is an asyncio Protocol on uvloop when installed, with no HTTP framework and a
response built once, so that the fake costs a few microseconds per request and the benchmark
measures the proxies in front of it, not the fake.

    python benches/fast_fake_upstream.py --port 18001
"""
from __future__ import annotations

import argparse
import asyncio
import json
import signal

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1767225600,
    "model": "bench-upstream",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the bench upstream."},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 23, "completion_tokens": 7, "total_tokens": 30},
    "system_fingerprint": None,
}
_BODY = json.dumps(COMPLETION, separators=(",", ":")).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_BODY)).encode()
    + b"\r\n\r\n"
    + _BODY
)
_CLOSE_RESPONSE = RESPONSE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
# Larger than any request the benchmark sends; a request over it is answered and the connection
# closed rather than buffered without bound.
_MAX_BUFFER = 1 << 20


class FakeUpstream(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        # Answer every complete request in the buffer (clients may pipeline).
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_BUFFER:
                    self._reply_and_close()
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name == b"content-length":
                    try:
                        length = int(value.strip())
                    except ValueError:
                        self._reply_and_close()
                        return
                elif name == b"connection" and value.strip() == b"close":
                    close = True
                elif name == b"transfer-encoding":
                    # Chunked uploads are not part of the benchmark; answer and hang up.
                    self._reply_and_close()
                    return
            total = end + 4 + length
            if len(self.buffer) < total:
                if total > _MAX_BUFFER:
                    self._reply_and_close()
                return
            del self.buffer[:total]
            if close:
                self._reply_and_close()
                return
            if self.transport is not None:
                self.transport.write(RESPONSE)

    def _reply_and_close(self) -> None:
        if self.transport is not None:
            self.transport.write(_CLOSE_RESPONSE)
            self.transport.close()
        self.buffer.clear()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeUpstream, host, port, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
