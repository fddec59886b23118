"""The OpenAPI 3.1 document served at GET /openapi.json, written out by hand (the routes are raw
Starlette, so there is nothing to generate it from). tests/test_server_api.py checks that every
route the app serves is described here and vice versa."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Invalid input (invalid_request, invalid_policy, invalid_flow, no_candidates).",
            401: "Missing or invalid bearer key (unauthorized).",
            404: "Unknown id or route (not_found).",
            413: "Body over the size limit (invalid_request, rule size_limit).",
            415: "Body not sent as application/json (invalid_request).",
            429: "The workspace's request budget is spent (rate_limited); see Retry-After.",
            500: "Unexpected server failure (internal_error); logged, never a traceback.",
            502: "Every candidate failed (provider_error); the trace is included."}
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


_TRACE_HEADERS = {
    "x-unhardcoded-trace-id": {"description": "Id of the trace written for this call.", "schema": {"type": "string"}},
    "x-unhardcoded-selected": {"description": "Model that served the call (percent-encoded if not ASCII).",
                               "schema": {"type": "string"}},
    "x-unhardcoded-policy": {"description": "Fingerprint of the policy (or flow) that routed the call.",
                             "schema": {"type": "string"}},
}

_POLICY_TERM = {
    "type": "array", "minItems": 7, "maxItems": 7,
    "description": "A sigma-pol/v1 term: [\"policy\", evidence, filter, rank, select, mutate, fallback] (docs/spec.md §2).",
    "prefixItems": [{"const": "policy"}], "items": {},
}
_FLOW_TERM = {
    "type": "array", "minItems": 2, "maxItems": 2,
    "description": "A flow_ir/v1 term: [\"flow\", {node_id: node}] (docs/spec.md §6).",
    "prefixItems": [{"const": "flow"}, {"type": "object"}],
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string", "description": "One sentence."},
                "type": {"type": "string", "description": "OpenAI error type, e.g. invalid_request_error."},
                "param": {"type": ["string", "null"],
                          "description": "JSON Pointer of the offending node, e.g. /policy_ir/2/3, or a parameter name."},
                "code": {"type": "string", "enum": ["invalid_policy", "invalid_flow", "invalid_request", "no_candidates",
                                                    "provider_error", "unauthorized", "not_found", "method_not_allowed",
                                                    "rate_limited", "internal_error", "cancelled"]},
                "rule": {"type": ["string", "null"], "description": "Stable sub-code, e.g. unknown_field."},
                "did_you_mean": {"type": ["string", "null"]},
                "trace_id": {"type": "string"},
                "trace": _ref("Trace"),
                "verdicts": {"type": "array", "items": _ref("Verdict")},
            },
            "additionalProperties": True,
        }},
    },
    "Verdict": {
        "type": "object", "required": ["model", "status", "dropped_by", "score", "rank"],
        "properties": {
            "model": {"type": "string"},
            "status": {"type": "string", "enum": ["winner", "passed", "rejected"]},
            "dropped_by": {"type": ["object", "null"], "properties": {
                "path": {"type": "string"}, "term": {}, "reason": {"type": "string"}}},
            "score": {"type": ["number", "null"]},
            "rank": {"type": ["integer", "null"]},
        },
    },
    "Hop": {
        "type": "object", "required": ["from", "to", "cause", "status", "latency_ms"],
        "properties": {
            "from": {"type": "string"}, "to": {"type": ["string", "null"]},
            "cause": {"type": "string", "enum": ["timeout", "connect", "rate_limited", "server_error", "auth",
                                                 "not_found", "bad_response", "bad_request", "no_key",
                                                 "stream_dropped"]},
            "status": {"type": ["integer", "null"]}, "latency_ms": {"type": "number"},
            "message": {"type": "string"},
        },
    },
    "Trace": {
        "type": "object",
        "required": ["object", "trace", "kind", "created", "status"],
        "properties": {
            "object": {"const": "trace"},
            "trace": {"type": "string", "description": "Trace id (tr_…)."},
            "label": {"type": ["string", "null"], "description": "The request's model label."},
            "kind": {"type": "string", "enum": ["policy", "flow"]},
            "policy": {"type": "object", "properties": {"fingerprint": {"type": "string"}, "version": {"type": "string"},
                                                        "term": {}}},
            "flow": {"type": "object"},
            "catalog": {"type": "object", "properties": {"fingerprint": {"type": "string"}}},
            "requirements": {"type": "object"},
            "seed": {"type": ["integer", "null"]},
            "providers": {"type": "array", "items": {"type": "string"},
                          "description": "The host floor at the time of the call."},
            "selected": {"type": ["string", "object", "null"]},
            "cascade": {"type": "array", "items": {"type": "string"}},
            "candidates": {"type": "array", "items": _ref("Verdict")},
            "reason": {"type": "string"},
            "fallback": {"type": "array", "items": _ref("Hop")},
            "latency_ms": {"type": ["number", "null"]},
            "routing_ms": {"type": ["number", "null"]},
            "cost": {"type": ["number", "null"], "description": "USD from usage × catalog prices."},
            "usage": {"type": ["object", "null"]},
            "status": {"type": "string", "enum": ["ok", "error"]},
            "error": {"type": ["object", "null"]},
            "started": {"type": "string"}, "ended": {"type": ["string", "null"]},
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "TraceSummary": {
        "type": "object",
        "properties": {k: {"type": ["string", "number", "null"]} for k in
                       ("trace", "label", "kind", "selected", "status", "policy", "cost", "latency_ms", "created")},
    },
    "ChatCompletionRequest": {
        "type": "object", "required": ["messages"],
        "description": "An OpenAI chat completion request plus policy_ir or flow_ir. Every other member passes "
                       "through to the selected provider unchanged (except what the policy's clamp_param shapes).",
        "properties": {
            "model": {"type": "string", "description": "Free-form label grouping traces, e.g. policy:support."},
            "messages": {"type": "array", "minItems": 1, "items": {"type": "object"}},
            "policy_ir": _POLICY_TERM,
            "flow_ir": _FLOW_TERM,
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object"},
        },
        "additionalProperties": True,
    },
    "ChatCompletion": {
        "type": "object",
        "description": "An OpenAI chat.completion with an extra top-level trace member.",
        "properties": {"id": {"type": "string"}, "object": {"const": "chat.completion"}, "choices": {"type": "array"},
                       "usage": {"type": "object"}, "trace": _ref("Trace")},
        "additionalProperties": True,
    },
    "RankRequest": {
        "type": "object", "required": ["policy_ir"],
        "properties": {
            "policy_ir": _POLICY_TERM,
            "messages": {"type": "array", "description": "A chat request the requirements are derived from."},
            "requirements": {"type": "object", "description": "Explicit requirements (spec §4) instead of a request."},
            "seed": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
            "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": ["winner", "passed", "rejected"]},
        },
        "additionalProperties": True,
    },
    "RankResult": {
        "type": "object",
        "properties": {
            "object": {"const": "rank"}, "policy": {"type": "object"}, "catalog": {"type": "object"},
            "requirements": {"type": "object"}, "providers": {"type": "array"}, "seed": {"type": ["integer", "null"]},
            "winner": {"type": "string"}, "cascade": {"type": "array", "items": {"type": "string"}},
            "counts": {"type": "object"}, "reason": {"type": "string"}, "total": {"type": "integer"},
            "offset": {"type": "integer"}, "limit": {"type": ["integer", "null"]},
            "verdicts": {"type": "array", "items": _ref("Verdict")},
        },
    },
    "Normalized": {
        "type": "object",
        "properties": {"object": {"type": "string"}, "canonical": {"type": "string"}, "fingerprint": {"type": "string"},
                       "version": {"type": "string"}, "term": {}, "order": {"type": "array"},
                       "nodes": {"type": "array"}, "preview": {"type": "array"}},
    },
    "PolicyNormalizeRequest": {
        "type": "object", "required": ["policy_ir"],
        "properties": {"policy_ir": _POLICY_TERM},
    },
    "FlowNormalizeRequest": {
        "type": "object", "required": ["flow_ir"],
        "properties": {"flow_ir": _FLOW_TERM},
    },
    "ReplayRequest": {
        "type": "object", "required": ["trace_id"], "additionalProperties": False,
        "properties": {"trace_id": {"type": "string"}, "against": {"type": "string", "enum": ["snapshot", "current"]},
                       "policy_ir": _POLICY_TERM},
    },
    "ReplayResult": {
        "type": "object",
        "properties": {"object": {"const": "replay"}, "trace": {"type": "string"}, "kind": {"type": "string"},
                       "against": {"type": "string"}, "reproduced": {"type": "boolean"},
                       "diff": {"type": "array", "items": {"type": "object"}}, "winner": {"type": "object"},
                       "cascade": {"type": "object"}, "changes": {"type": "array"}, "nodes": {"type": "array"}},
    },
}


def _post(summary: str, request: str, response: dict[str, Any], errors: tuple[int, ...], **extra: Any) -> dict:
    op = {"summary": summary, "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
          "responses": {"200": response, **_errors(*errors)}}
    op.update(extra)
    return {"post": op}


def document() -> dict[str, Any]:
    chat_ok = _json(_ref("ChatCompletion"), "The completion with its trace; with stream=true, an SSE stream of "
                                            "chat.completion.chunk objects whose last chunk carries the trace.")
    chat_ok["headers"] = _TRACE_HEADERS
    chat_ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    paths = {
        "/v1/chat/completions": _post(
            "Route one chat call by its policy_ir (or run its flow_ir) and return the completion with its trace.",
            "ChatCompletionRequest", chat_ok, (400, 401, 413, 415, 429, 500, 502),
            parameters=[{"name": "x-unhardcoded-seed", "in": "header", "required": False,
                         "description": "Seed for a sample selector (0 … 2^53-1); recorded in the trace.",
                         "schema": {"type": "integer"}}]),
        "/x/rank": _post("Dry run: per-model verdicts, winner and cascade without inference.", "RankRequest",
                         _json(_ref("RankResult"), "The ranking."), (400, 401, 413, 415, 429)),
        "/x/policy/normalize": _post("Admit a policy_ir: canonical form, fingerprint and grammar version.",
                                     "PolicyNormalizeRequest", _json(_ref("Normalized"), "The admitted policy."),
                                     (400, 401, 413, 415, 429)),
        "/x/flow/normalize": _post("Admit a flow_ir: canonical form, fingerprint, order and each llm node's preview.",
                                   "FlowNormalizeRequest", _json(_ref("Normalized"), "The admitted flow."),
                                   (400, 401, 413, 415, 429)),
        "/x/fields": {"get": {"summary": "The field vocabulary (core + this host's extensions) and capabilities.",
                              "responses": {"200": _json({"type": "object"}, "Fields and capabilities."),
                                            **_errors(401, 429)}}},
        "/v1/models": {"get": {"summary": "The live catalog in the OpenAI list shape, with catalog fields.",
                               "responses": {"200": _json({"type": "object"}, "Models."), **_errors(401, 429)}}},
        "/x/traces": {"get": {
            "summary": "Trace history of the caller's workspace, newest first.",
            "parameters": [
                {"name": "label", "in": "query", "schema": {"type": "string"}},
                {"name": "model", "in": "query", "schema": {"type": "string"}, "description": "Selected model id."},
                {"name": "since", "in": "query", "schema": {"type": "string"},
                 "description": "ISO-8601 or epoch ms, inclusive."},
                {"name": "until", "in": "query", "schema": {"type": "string"},
                 "description": "ISO-8601 or epoch ms, exclusive."},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 20}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"},
                 "description": "next_cursor of the previous page."}],
            "responses": {"200": _json({"type": "object", "properties": {
                "object": {"const": "list"}, "data": {"type": "array", "items": _ref("TraceSummary")},
                "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}}, "A page."),
                **_errors(400, 401, 429)}}},
        "/x/traces/{trace_id}": {"get": {
            "summary": "One trace of the caller's workspace (another workspace's id is 404).",
            "parameters": [{"name": "trace_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("Trace"), "The trace."), **_errors(401, 404, 429)}}},
        "/x/replay": _post("Re-evaluate a trace's policy over its catalog snapshot or the current catalog.",
                           "ReplayRequest", _json(_ref("ReplayResult"), "What the replay found."),
                           (400, 401, 404, 413, 415, 429)),
        "/healthz": {"get": {"summary": "Liveness.", "security": [],
                             "responses": {"200": _json({"type": "object"}, "ok")}}},
        "/openapi.json": {"get": {"summary": "This document.", "security": [],
                                  "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "unhardcoded router", "version": "1",
                 "description": "OpenAI-compatible chat completions routed by a policy_ir (sigma-pol/v1) or flow_ir "
                                "carried in the request, with replayable traces. See docs/api.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "A workspace key."}}},
    }


@lru_cache(maxsize=1)
def document_bytes() -> bytes:
    return orjson.dumps(document())
