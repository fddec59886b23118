"""Catalog loading (spec §7): models as plain dicts, in ascending id order (UTF-8 bytes).

The spec names only `unknown_field` for catalogs; the other rules used here (`type`,
`missing_member`, `shadowed_field`, `duplicate_model`, `unknown_capability`), the optional
`format`, the default description "" and the de-duplicated `capabilities_extra` are readings
where the spec is silent; conformance/README.md lists them.
"""
from __future__ import annotations

from .errors import RefError, pointer
from .fingerprint import fingerprint
from .jcs import canonical
from .jsonread import CATALOG_LIMITS, parse
from .vocab import CORE_CAPABILITIES, CORE_FIELDS, Vocabulary, suggest

FORMAT = "unhardcoded-catalog/v1"
_TOP_MEMBERS = ("format", "fields", "capabilities_extra", "models")
_EXTENSION_KINDS = ("number", "bool", "string")


def _fail(rule: str, path: str, message: str, did_you_mean: str | None = None):
    raise RefError("invalid_catalog", rule, path, message, did_you_mean=did_you_mean)


class Catalog:
    def __init__(self, doc):
        if not isinstance(doc, dict):
            _fail("type", "", "A catalog is a JSON object.")
        for name in doc:
            if name not in _TOP_MEMBERS:
                _fail("unknown_field", pointer("", name), f"'{name}' is not a catalog member.",
                      suggest(name, _TOP_MEMBERS))
        if doc.get("format", FORMAT) != FORMAT:
            _fail("type", "/format", f"The catalog format must be '{FORMAT}'.")
        if "models" not in doc:
            _fail("missing_member", "", "A catalog needs 'models'.")
        self.fields = self._fields(doc.get("fields", []))
        self.capabilities_extra = self._capabilities(doc.get("capabilities_extra", []))
        self.vocab = Vocabulary({f["name"]: f["kind"] for f in self.fields}, self.capabilities_extra)
        self.models = self._models(doc.get("models"))
        self.canonical_doc = {"format": FORMAT, "fields": self.fields,
                              "capabilities_extra": self.capabilities_extra, "models": self.models}
        self.canonical = canonical(self.canonical_doc)
        self.fingerprint = fingerprint("cat_", self.canonical)

    @staticmethod
    def from_text(text: str | bytes) -> "Catalog":
        return Catalog(parse(text, CATALOG_LIMITS, "invalid_catalog"))

    def ids(self) -> list[str]:
        return [m["id"] for m in self.models]

    @staticmethod
    def _fields(fields) -> list[dict]:
        if not isinstance(fields, list):
            _fail("type", "/fields", "fields is an array of field declarations.")
        seen: set[str] = set()
        for i, f in enumerate(fields):
            p = pointer("/fields", i)
            if not isinstance(f, dict):
                _fail("type", p, "A field declaration is an object.")
            for name in f:
                if name not in ("name", "kind", "description"):
                    _fail("unknown_field", pointer(p, name), f"'{name}' is not a field declaration member.")
            name = f.get("name")
            if not isinstance(name, str) or not name:
                _fail("type", pointer(p, "name"), "A field name is a non-empty string.")
            if name in CORE_FIELDS or name in seen or name == "meta":
                _fail("shadowed_field", pointer(p, "name"), f"'{name}' is already a field.")
            seen.add(name)
            if f.get("kind") not in _EXTENSION_KINDS:
                _fail("type", pointer(p, "kind"), "An extension field's kind is number, bool or string.")
            if not isinstance(f.get("description", ""), str):
                _fail("type", pointer(p, "description"), "A field description is a string.")
        # The canonical declaration always carries a description ("" when left out).
        return [{"name": f["name"], "kind": f["kind"], "description": f.get("description", "")} for f in fields]

    @staticmethod
    def _capabilities(caps) -> list[str]:
        if not isinstance(caps, list):
            _fail("type", "/capabilities_extra", "capabilities_extra is an array of strings.")
        kept: list[str] = []
        for i, c in enumerate(caps):
            if not isinstance(c, str):
                _fail("type", pointer("/capabilities_extra", i), "A capability name is a string.")
            # The vocabulary is a set: a core name or a repeat adds nothing and is not kept.
            if c not in CORE_CAPABILITIES and c not in kept:
                kept.append(c)
        return kept

    def _models(self, models) -> list[dict]:
        if not isinstance(models, list):
            _fail("type", "/models", "models is an array of model objects.")
        kept: list[dict] = []
        seen: set[str] = set()
        for i, model in enumerate(models):
            p = pointer("/models", i)
            if not isinstance(model, dict):
                _fail("type", p, "A model is an object.")
            clean = {}
            for name, value in model.items():
                q = pointer(p, name)
                if name == "meta":
                    if value is not None:
                        clean[name] = value
                    continue
                kind = self.vocab.kind(name)
                if kind is None:
                    _fail("unknown_field", q, f"'{name}' is not a declared field.",
                          suggest(name, list(self.vocab.fields) + ["meta"]))
                if value is None:
                    continue
                self._check_value(kind, value, q)
                if name in ("id", "provider") and value == "":
                    _fail("type", q, f"A model's {name} is a non-empty string.")
                clean[name] = value
            for required in ("id", "provider"):
                if required not in clean:
                    _fail("missing_member", p, f"A model needs '{required}'.")
            if clean["id"] in seen:
                _fail("duplicate_model", pointer(p, "id"), f"The model id '{clean['id']}' appears twice.")
            seen.add(clean["id"])
            kept.append(clean)
        kept.sort(key=lambda m: m["id"])  # code point order == UTF-8 byte order
        return kept

    def _check_value(self, kind: str, value, path: str) -> None:
        ok = {"number": isinstance(value, float), "bool": isinstance(value, bool),
              "string": isinstance(value, str), "caps": isinstance(value, list)}[kind]
        if not ok:
            _fail("type", path, f"This field holds a {kind}.")
        if kind == "caps":
            for j, cap in enumerate(value):
                if not isinstance(cap, str):
                    _fail("type", pointer(path, j), "A capability name is a string.")
                if cap not in self.vocab.capabilities:
                    _fail("unknown_capability", pointer(path, j), f"'{cap}' is not a known capability.",
                          suggest(cap, self.vocab.capabilities))
