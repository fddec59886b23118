"""Importers that turn third-party model lists into unhardcoded catalog documents (spec §7)."""

from .litellm import ImportReport, import_litellm, import_litellm_with_report

__all__ = ["ImportReport", "import_litellm", "import_litellm_with_report"]
