"""Incremental Server-Sent Events decoder (WHATWG HTML "event stream" parsing).

Bytes arrive in arbitrary pieces from the network: a piece may end in the middle of a line, of a
UTF-8 sequence, or between the CR and LF of a CRLF. The decoder keeps that state between `feed`
calls and yields an event only when its terminating blank line has arrived, so a stream cut short
never produces a half event.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSEEvent"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""
        self._started = False
        self._event_type = ""
        self._data: list[str] = []
        self._has_data = False
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._feed_text(self._utf8.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """End of stream. An event not terminated by a blank line is discarded (as the spec says),
        so a truncated stream is detectable by its missing terminator event."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._tail.endswith("\r"):
            events.extend(self._consume(self._tail[:-1] + "\n"))
        self._tail = ""
        return events

    def _feed_text(self, text: str) -> list[SSEEvent]:
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        return self._consume(self._tail + text)

    def _consume(self, buf: str) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        pos = 0
        for match in _LINE_BREAK.finditer(buf):
            # A lone CR at the very end may be the first half of a CRLF split across pieces.
            if match.group() == "\r" and match.end() == len(buf):
                break
            event = self._line(buf[pos : match.start()])
            if event is not None:
                events.append(event)
            pos = match.end()
        self._tail = buf[pos:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        event_type, self._event_type = self._event_type, ""
        if not self._has_data:
            self._data.clear()
            return None
        data = "\n".join(self._data)
        self._data.clear()
        self._has_data = False
        return SSEEvent(event=event_type or "message", data=data, id=self._last_id, retry=self._retry)
