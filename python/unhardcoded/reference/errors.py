"""Errors as data (spec §1, §2, §6): a stable code, a stable rule, a JSON Pointer and one sentence."""
from __future__ import annotations


class RefError(ValueError):
    """An error of the reference interpreter; compared field by field with the native one."""

    def __init__(self, code: str, rule: str | None, path: str, message: str, *,
                 node: str | None = None, did_you_mean: str | None = None, result: dict | None = None):
        super().__init__(f"{code} ({rule}) at '{path}': {message}")
        self.code = code
        self.rule = rule
        self.path = path
        self.message = message
        self.node = node
        self.did_you_mean = did_you_mean
        self.result = result  # the evaluation result carried by no_candidates

    def to_dict(self) -> dict:
        return {"code": self.code, "rule": self.rule, "path": self.path, "message": self.message,
                "node": self.node, "did_you_mean": self.did_you_mean}


def pointer(base: str, token: str | int) -> str:
    """Appends one RFC 6901 reference token."""
    return base + "/" + str(token).replace("~", "~0").replace("/", "~1")
