"""Fake provider upstreams (OpenAI, Azure OpenAI, Anthropic, Gemini) on 127.0.0.1, for tests.

Import fixtures in a test module with `from fakes.fixtures import anyio_backend, fake_upstream, http_client`.
"""

from .behaviour import Behaviour, parse_behaviour
from .upstream import FakeUpstream, RecordedRequest

__all__ = ["Behaviour", "FakeUpstream", "RecordedRequest", "parse_behaviour"]
