"""A small HTTP/1.1 server on raw asyncio streams, run in a background thread.

Raw streams rather than an ASGI server because the fakes must misbehave in ways a framework
hides: reset the TCP connection, go silent halfway through a chunked body, or end a stream
cleanly without its terminator.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

__all__ = ["HttpRequest", "Reply", "Reset", "ServerThread", "StreamReply"]

MAX_BODY = 64 * 1024 * 1024
SILENCE_CAP = 30.0  # a stalled stream waits at most this long for the client to hang up


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    connection: int = 0  # the client's port: equal for requests sent over one kept-alive connection


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, orjson.dumps(payload), {"content-type": "application/json; charset=UTF-8", **(headers or {})}
        )


@dataclass
class Reset:
    """Abort the connection with a TCP RST, before any response byte."""


@dataclass
class StreamReply:
    """An event stream: `events`, then `terminator`. At most one of the *_after limits applies;
    its count is of `events` (the terminator is never counted), and a limit at or beyond
    len(events) acts just before the terminator."""

    events: list[bytes]
    terminator: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    stall_after: int | None = None  # send n events, then silence
    drop_after: int | None = None  # send n events, then end the body cleanly
    reset_after: int | None = None  # send n events, then RST
    error_after: int | None = None  # send n events, then error_event, then end the body
    error_event: bytes = b""


Handler = Callable[[HttpRequest], Awaitable[Reply | Reset | StreamReply]]


class _Abort(Exception):
    pass


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
            if len(body) > MAX_BODY:
                raise _Abort()
        raw = bytes(body)
    else:
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            raise _Abort()
        raw = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        parsed = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        parsed = None
    return HttpRequest(method.upper(), unquote(parts.path), query, headers, raw, parsed)


def _head(status: int, headers: dict[str, str]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Overloaded" if status == 529 else "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


async def _send_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: StreamReply) -> bool:
    headers = {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "transfer-encoding": "chunked",
        **reply.headers,
    }
    writer.write(_head(200, headers))
    await writer.drain()
    for i in range(len(reply.events) + 1):
        if reply.stall_after is not None and i == min(reply.stall_after, len(reply.events)):
            try:
                await asyncio.wait_for(reader.read(1), SILENCE_CAP)
            except TimeoutError:
                pass
            return False
        if reply.reset_after is not None and i == min(reply.reset_after, len(reply.events)):
            _rst(writer)
            raise _Abort()
        if reply.drop_after is not None and i == min(reply.drop_after, len(reply.events)):
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if reply.error_after is not None and i == min(reply.error_after, len(reply.events)):
            await _write_chunk(writer, reply.error_event)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if i < len(reply.events):
            await _write_chunk(writer, reply.events[i])
    for event in reply.terminator:
        await _write_chunk(writer, event)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


class ServerThread:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fake-upstream", daemon=True)
        self._ready = threading.Event()
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake upstream did not start within 10s")

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._shutdown)
        self._thread.join(10)

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        self._loop.call_later(0.05, self._loop.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (_Abort, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        while True:
            request = await _read_request(reader)
            if request is None:
                return
            request.connection = peer[1] if peer else 0
            reply = await self._handler(request)
            if isinstance(reply, Reset):
                _rst(writer)
                return
            if isinstance(reply, StreamReply):
                if not await _send_stream(reader, writer, reply):
                    return
                continue
            headers = {"content-length": str(len(reply.body)), **reply.headers}
            writer.write(_head(reply.status, headers) + reply.body)
            await writer.drain()
