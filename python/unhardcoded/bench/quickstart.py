"""The quickstart policy of the product pages (seeds/003, "The raw policy_ir term"), and the chat
request the benches route with."""
from __future__ import annotations

# Verbatim from the product page with its comments removed, including the page's spacing, so the
# canonicalization bench starts from the text a user would actually send.
QUICKSTART_POLICY_TEXT = (
    '[ "policy", ["ev_zero"], ["and", ["meets_req"], ["not",["is","disabled"]], '
    '["has_cap","supports_tools"], ["cmp","bench_intelligence","ge",0.5], ["cmp","price_out","le",5]], '
    '["neg",["normalize",["field","price_out"]]], ["argmax"], ["id"], '
    '["always",{"action":"next_candidate"}] ]'
)

# A small support-style chat call. It asks for up to 1,024 output tokens, so `meets_req` tests
# both `context` and `max_output` columns, not just flags.
CHAT_REQUEST: dict = {
    "model": "policy:bench",
    "messages": [
        {"role": "system", "content": "You are a concise support assistant."},
        {"role": "user", "content": "My order #1234 has not arrived. What can I do?"},
    ],
    "max_tokens": 1024,
}

# What spec §4 derives from CHAT_REQUEST (prompt_tokens = ceil(92 UTF-8 bytes of message strings
# / 4)). The rank benches pass it explicitly so every implementation sees identical requirements;
# a bench checks it against the native `requirements_from_request`.
REQUIREMENTS: dict = {
    "tools": False,
    "vision": False,
    "json": False,
    "prompt_tokens": 23,
    "max_tokens": 1024,
}
