"""The SSE decoder against the event-stream parsing rules, fed in every possible split."""

from __future__ import annotations

import pytest

from unhardcoded.providers.sse import SSEDecoder, SSEEvent


def decode(*pieces: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def decode_bytewise(raw: bytes) -> list[SSEEvent]:
    return decode(*(raw[i : i + 1] for i in range(len(raw))))


STREAM = (
    b": keep-alive comment\r\n"
    b"event: message_start\r\n"
    b'data: {"a":\r\n'
    b"data:  1}\r\n"
    b"id: 7\r\n"
    b"retry: 1500\r\n"
    b"\r\n"
    b"data: caf\xc3\xa9 \xe2\x9c\x93\n"
    b"\n"
    b"data: last\r"
    b"\r"
)


def test_fields_multiline_data_comments_and_all_line_endings() -> None:
    events = decode(STREAM)
    assert events == [
        SSEEvent(event="message_start", data='{"a":\n 1}', id="7", retry=1500),
        SSEEvent(event="message", data="café ✓", id="7", retry=1500),
        SSEEvent(event="message", data="last", id="7", retry=1500),
    ]


def test_any_split_of_the_bytes_gives_the_same_events() -> None:
    whole = decode(STREAM)
    assert decode_bytewise(STREAM) == whole
    for cut in range(1, len(STREAM)):
        assert decode(STREAM[:cut], STREAM[cut:]) == whole, cut


def test_crlf_split_between_cr_and_lf_is_one_line_break() -> None:
    assert decode(b"data: x\r", b"\n\r", b"\n") == [SSEEvent("message", "x")]


def test_an_unterminated_event_at_end_of_stream_is_discarded() -> None:
    assert decode(b'data: complete\n\ndata: {"partial": ') == [SSEEvent("message", "complete")]
    assert decode(b"data: [DONE]\n") == []


def test_leading_bom_is_ignored_and_space_after_colon_is_optional() -> None:
    assert decode(b"\xef\xbb\xbfdata:x\n\n") == [SSEEvent("message", "x")]


def test_empty_data_line_dispatches_an_empty_event_but_a_blank_block_does_not() -> None:
    assert decode(b"event: ping\n\n") == []
    assert decode(b"data\n\n") == [SSEEvent("message", "")]
    assert decode(b"data:\ndata:\n\n") == [SSEEvent("message", "\n")]


def test_event_type_resets_after_each_dispatch() -> None:
    events = decode(b"event: error\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in events] == [("error", "1"), ("message", "2")]


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1.5"])
def test_invalid_retry_is_ignored(value: bytes) -> None:
    assert decode(b"retry: " + value + b"\ndata: x\n\n")[0].retry is None


def test_utf8_sequence_split_across_pieces() -> None:
    raw = "data: 日本語\n\n".encode()
    assert decode_bytewise(raw) == [SSEEvent("message", "日本語")]
