"""The `unhardcoded` command.

    unhardcoded policy normalize FILE|-
    unhardcoded flow normalize FILE|-
    unhardcoded rank --policy FILE --catalog FILE|default [--request FILE | --requirements FILE]
                     [--seed N] [--providers a,b] [--limit N] [--status S]
    unhardcoded catalog import --from litellm FILE [-o OUT]
    unhardcoded catalog show [--catalog FILE|default]
    unhardcoded serve [--config FILE] [--host H] [--port N] [--data-dir DIR]

Results are JSON on stdout. A refusal is `{"error": {code, rule, path, message, help,
did_you_mean, node}}` on stderr. Exit status: 0 ok, 1 no candidates (the verdicts still go to
stdout), 2 invalid input (bad JSON, a term that is not admitted, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

EXIT_OK = 0
EXIT_NO_CANDIDATES = 1
EXIT_INVALID = 2


class CliError(Exception):
    """A refusal the CLI reports itself (a file it cannot read, a flag out of range)."""

    def __init__(self, code: str, rule: str | None, message: str, path: str = "") -> None:
        super().__init__(message)
        self.payload = {
            "code": code,
            "rule": rule,
            "path": path,
            "message": message,
            "help": None,
            "did_you_mean": None,
            "node": None,
        }


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as the CLI's JSON error instead of exiting itself."""

    def error(self, message: str) -> NoReturn:
        raise CliError("invalid_request", "usage", f"{message[:1].upper()}{message[1:]}.")


def _emit(obj: Any, stream: Any) -> None:
    stream.write(json.dumps(obj, indent=2, ensure_ascii=False))
    stream.write("\n")
    stream.flush()


def _read(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise CliError("invalid_request", "io", f"Cannot read the {what} file '{path}': {reason}.") from None


def _catalog(spec: str | None):
    import unhardcoded as uh

    if spec is None or spec == "default":
        return uh.default_catalog()
    return uh.Catalog.from_json(_read(spec, "catalog"))


def _policy_normalize(args: argparse.Namespace) -> int:
    import unhardcoded as uh

    policy = uh.Policy.admit(_read(args.file, "policy"))
    # The same object POST /x/policy/normalize answers.
    _emit({"object": "policy", "canonical": policy.canonical, "fingerprint": policy.fingerprint,
           "version": policy.version, "term": json.loads(policy.canonical)}, sys.stdout)
    return EXIT_OK


def _flow_normalize(args: argparse.Namespace) -> int:
    import unhardcoded as uh

    flow = uh.Flow.admit(_read(args.file, "flow"))
    nodes = []
    for node_id in flow.order():
        node = flow.node(node_id)
        if node["kind"] == "llm":
            policy = flow.node_policy(node_id)
            node["policy"] = {"fingerprint": policy.fingerprint, "version": policy.version}
        nodes.append(node)
    # POST /x/flow/normalize's object, without its live-catalog preview.
    _emit({"object": "flow", "canonical": flow.canonical, "fingerprint": flow.fingerprint, "version": flow.version,
           "term": json.loads(flow.canonical), "order": flow.order(), "nodes": nodes}, sys.stdout)
    return EXIT_OK


def _rank(args: argparse.Namespace) -> int:
    import unhardcoded as uh

    if args.request is not None and args.requirements is not None:
        raise CliError("invalid_request", "usage", "Pass --request or --requirements, not both.")
    if args.limit is not None and args.limit < 0:
        raise CliError("invalid_request", "usage", "--limit must be 0 or more.")
    catalog = _catalog(args.catalog)
    policy = uh.Policy.admit(_read(args.policy, "policy"), fields=catalog)
    requirements = None
    if args.request is not None:
        requirements = uh.requirements_from_request(policy.mutate_request(_read(args.request, "request")))
    elif args.requirements is not None:
        text = _read(args.requirements, "requirements")
        # Parsed strictly first so a malformed file gets the same refusal as any other input.
        requirements = json.loads(uh.canonicalize(text))
    providers = [p for p in args.providers.split(",") if p] if args.providers is not None else None
    # What evaluation used: members not given default to "nothing required" (spec §4).
    effective = {**uh.requirements_from_request({}), **(requirements or {})}

    def summary(result: uh.RankResult) -> dict[str, Any]:
        # The fields POST /x/rank answers with, for the same dry run.
        return {
            "object": "rank",
            "policy": policy.fingerprint,
            "catalog": catalog.fingerprint,
            "requirements": effective,
            "providers": providers,
            "winner": result.winner,
            "cascade": result.cascade,
            "seed": result.seed,
            "counts": result.counts(),
            "verdicts": json.loads(result.verdicts_json(0, args.limit, args.status)),
        }

    try:
        result = policy.rank(catalog, requirements=requirements, seed=args.seed, providers=providers)
    except uh.NoCandidates as exc:
        out = summary(exc.result)
        out["winner"] = None
        _emit(out, sys.stdout)
        _emit({"error": exc.to_dict()}, sys.stderr)
        return EXIT_NO_CANDIDATES
    _emit(summary(result), sys.stdout)
    return EXIT_OK


def _catalog_import(args: argparse.Namespace) -> int:
    import unhardcoded as uh
    from unhardcoded.importers.litellm import import_litellm_with_report

    raw = _read(args.file, "LiteLLM price map")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError("invalid_catalog", "json_syntax", f"The LiteLLM price map is not JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise CliError("invalid_catalog", "type", "The LiteLLM price map must be a JSON object of model entries.")
    doc, report = import_litellm_with_report(data)
    text = json.dumps(doc, ensure_ascii=False)
    # Validated by the strict loader before anything is written: an import never yields a
    # catalog the router would refuse.
    catalog = uh.Catalog.from_json(text)
    summary = {"imported": report.to_dict(), "fingerprint": catalog.fingerprint, "models": len(catalog)}
    if args.out is None:
        sys.stdout.write(text + "\n")
        _emit(summary, sys.stderr)
        return EXIT_OK
    try:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise CliError("invalid_request", "io", f"Cannot write '{args.out}': {reason}.") from None
    summary["out"] = args.out
    _emit(summary, sys.stdout)
    return EXIT_OK


def _catalog_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args.catalog)
    providers: dict[str, int] = {}
    for model_id in catalog.ids():
        model = catalog.model(model_id) or {}
        name = model.get("provider", "")
        providers[name] = providers.get(name, 0) + 1
    _emit(
        {
            "fingerprint": catalog.fingerprint,
            "count": len(catalog),
            "providers": dict(sorted(providers.items())),
            "fields": catalog.fields(),
            "capabilities": catalog.capabilities(),
        },
        sys.stdout,
    )
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    # The server lives in its own package area and pulls in uvicorn; import it only when asked.
    try:
        module = importlib.import_module("unhardcoded.server.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in ("unhardcoded.server", "unhardcoded.server.cli"):
            raise
        raise CliError("invalid_request", None, "The server is not part of this installation.") from None
    return int(module.serve_main(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="unhardcoded", description="Routing policies as data: admit, fingerprint, rank.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    policy = commands.add_parser("policy", help="policy terms (sigma-pol/v1)")
    policy_cmds = policy.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = policy_cmds.add_parser("normalize", help="admit a policy; print canonical form, fingerprint, version")
    p.add_argument("file", metavar="FILE|-")
    p.set_defaults(run=_policy_normalize)

    flow = commands.add_parser("flow", help="workflow terms (flow_ir/v1)")
    flow_cmds = flow.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = flow_cmds.add_parser("normalize", help="admit a flow; print canonical form, fingerprint, order, node policies")
    p.add_argument("file", metavar="FILE|-")
    p.set_defaults(run=_flow_normalize)

    p = commands.add_parser("rank", help="dry-run a policy over a catalog")
    p.add_argument("--policy", required=True, metavar="FILE|-")
    p.add_argument("--catalog", default="default", metavar="FILE|default")
    p.add_argument("--request", metavar="FILE", help="chat request the requirements are derived from")
    p.add_argument("--requirements", metavar="FILE", help="requirements object (spec §4)")
    p.add_argument("--seed", type=int, help="seed for a sample selector (0 .. 2**53-1)")
    p.add_argument("--providers", metavar="A,B", help="host floor: only these providers are configured")
    p.add_argument("--limit", type=int, help="print at most N verdicts (default: all)")
    p.add_argument("--status", choices=["winner", "passed", "rejected"], help="only verdicts with this status")
    p.set_defaults(run=_rank)

    catalog = commands.add_parser("catalog", help="model catalogs")
    catalog_cmds = catalog.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = catalog_cmds.add_parser("import", help="convert a third-party model list to a catalog")
    p.add_argument("--from", dest="source", required=True, choices=["litellm"])
    p.add_argument("file", metavar="FILE|-")
    p.add_argument("-o", "--out", metavar="OUT", help="write the catalog here (default: stdout)")
    p.set_defaults(run=_catalog_import)
    p = catalog_cmds.add_parser("show", help="fingerprint, size, fields and capabilities of a catalog")
    p.add_argument("--catalog", default="default", metavar="FILE|default")
    p.set_defaults(run=_catalog_show)

    p = commands.add_parser("serve", help="run the OpenAI-compatible router")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--data-dir", dest="data_dir", metavar="DIR")
    p.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 no candidates, 2 invalid input)."""
    try:
        from unhardcoded import UnhardcodedError
    except ImportError as exc:  # the native module is missing or stale
        _emit({"error": {"code": "invalid_request", "rule": None, "path": "", "message": str(exc),
                         "help": "Reinstall unhardcoded.", "did_you_mean": None, "node": None}}, sys.stderr)
        return EXIT_INVALID
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except CliError as exc:
        _emit({"error": exc.payload}, sys.stderr)
        return EXIT_INVALID
    except UnhardcodedError as exc:
        _emit({"error": exc.to_dict()}, sys.stderr)
        return EXIT_NO_CANDIDATES if exc.code == "no_candidates" else EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
