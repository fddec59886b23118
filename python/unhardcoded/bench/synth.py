"""Deterministic synthetic catalogs for the rank benches.

A catalog of any size is generated from a seed with NumPy's PCG64, so every run (and every
machine) ranks exactly the same models. The distributions imitate a real price map: prices are
lognormal and rounded to cents (so many models tie on price and the id tie-break matters), output
prices are a small multiple of input prices, quality scores are Beta-distributed, and every field
but `id`/`provider` is sometimes absent or null, as spec §7 allows.
"""
from __future__ import annotations

import numpy as np
import orjson

FORMAT = "unhardcoded-catalog/v1"

# (provider, families, weight): a few large providers and a long tail of small ones.
_PROVIDERS: list[tuple[str, list[str], float]] = [
    ("openai", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini"], 0.22),
    ("anthropic", ["claude-sonnet", "claude-haiku", "claude-opus"], 0.16),
    ("gemini", ["gemini-flash", "gemini-pro", "gemini-flash-lite"], 0.16),
    ("mistral", ["mistral-large", "mistral-small", "codestral"], 0.1),
    ("groq", ["llama-3.3", "llama-4-scout", "qwen-3"], 0.1),
    ("together", ["llama-3.1", "deepseek-v3", "qwen-2.5", "mixtral"], 0.1),
    ("bedrock", ["nova-pro", "nova-lite", "titan"], 0.08),
    ("openrouter", ["auto", "kimi-k2", "glm-4.5", "grok-3"], 0.08),
]
_REGIONS = ["global", "us", "eu", "asia"]
_CONTEXTS = [8192, 16384, 32768, 128000, 200000, 1048576]
_MAX_OUTPUTS = [512, 4096, 8192, 16384, 32768, 65536]
_FLAGS = ["cap_tools", "cap_reasoning", "cap_json", "in_image", "no_log", "has_tee", "disabled"]
# P(true) of each flag among models that have it.
_FLAG_TRUE = {"cap_tools": 0.75, "cap_reasoning": 0.3, "cap_json": 0.6, "in_image": 0.4,
              "no_log": 0.2, "has_tee": 0.05, "disabled": 0.04}
# Capabilities that follow a flag (with a little disagreement, as real price maps have).
_CAP_OF_FLAG = {"supports_tools": "cap_tools", "supports_json_mode": "cap_json",
                "supports_vision": "in_image", "supports_reasoning": "cap_reasoning"}
# Independent capabilities and how common they are.
_CAP_FREE = {"supports_streaming": 0.95, "supports_system_messages": 0.9,
             "supports_response_schema": 0.4, "supports_prompt_caching": 0.3,
             "supports_parallel_tool_calls": 0.5, "supports_tool_choice": 0.6,
             "supports_pdf_input": 0.15, "supports_web_search": 0.05}


def _missing(rng: np.random.Generator, n: int, absent: float, null: float) -> np.ndarray:
    """0 = present, 1 = absent (member omitted), 2 = explicit null."""
    u = rng.random(n)
    return np.where(u < absent, 1, np.where(u < absent + null, 2, 0)).astype(np.int8)


def synthetic_models(n: int, seed: int = 20261122) -> list[dict]:
    """`n` model objects (spec §7), sorted by id, reproducible from `seed`."""
    rng = np.random.Generator(np.random.PCG64(seed))
    weights = np.array([w for _, _, w in _PROVIDERS])
    prov_idx = rng.choice(len(_PROVIDERS), size=n, p=weights / weights.sum())
    fam_pick = rng.integers(0, 1 << 30, size=n)
    region = rng.choice(len(_REGIONS), size=n, p=[0.55, 0.2, 0.2, 0.05])

    price_in = np.maximum(np.round(rng.lognormal(np.log(0.8), 1.3, size=n), 2), 0.01)
    price_out = np.round(price_in * rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 8.0], size=n), 2)
    context = rng.choice(_CONTEXTS, size=n, p=[0.05, 0.1, 0.2, 0.4, 0.15, 0.1])
    max_output = rng.choice(_MAX_OUTPUTS, size=n, p=[0.05, 0.3, 0.3, 0.2, 0.1, 0.05])
    quality = np.round(rng.beta(4.0, 3.0, size=n), 3)
    latency = np.round(rng.lognormal(np.log(400.0), 0.6, size=n), 1)
    throughput = np.round(rng.lognormal(np.log(80.0), 0.5, size=n), 1)

    numbers = {
        "price_in": (price_in.tolist(), _missing(rng, n, 0.03, 0.01)),
        "price_out": (price_out.tolist(), _missing(rng, n, 0.03, 0.01)),
        "context": (context.tolist(), _missing(rng, n, 0.02, 0.0)),
        "max_output": (max_output.tolist(), _missing(rng, n, 0.05, 0.0)),
        "bench_intelligence": (quality.tolist(), _missing(rng, n, 0.08, 0.0)),
        "latency_ms": (latency.tolist(), _missing(rng, n, 0.12, 0.03)),
        "throughput_tps": (throughput.tolist(), _missing(rng, n, 0.12, 0.03)),
    }
    flags = {}
    for name in _FLAGS:
        values = rng.random(n) < _FLAG_TRUE[name]
        flags[name] = (values, values.tolist(), _missing(rng, n, 0.35 if name == "disabled" else 0.03, 0.0))
    caps_cols = {}
    for cap, flag in _CAP_OF_FLAG.items():
        agree = rng.random(n) < 0.97
        caps_cols[cap] = np.where(agree, flags[flag][0], ~flags[flag][0]).tolist()
    for cap, p in _CAP_FREE.items():
        caps_cols[cap] = (rng.random(n) < p).tolist()
    caps_absent = (rng.random(n) < 0.02).tolist()
    cap_names = list(caps_cols)

    ids = [
        f"{_PROVIDERS[p][0]}/{_PROVIDERS[p][1][f % len(_PROVIDERS[p][1])]}-{i:07d}"
        for i, (p, f) in enumerate(zip(prov_idx.tolist(), fam_pick.tolist()))
    ]
    prov_l, fam_l, region_l = prov_idx.tolist(), fam_pick.tolist(), region.tolist()
    num_items = [(k, v, m.tolist()) for k, (v, m) in numbers.items()]
    flag_items = [(k, v, m.tolist()) for k, (_, v, m) in flags.items()]
    cap_items = [(c, caps_cols[c]) for c in cap_names]

    models = []
    for i in range(n):
        provider, families, _ = _PROVIDERS[prov_l[i]]
        model: dict = {"id": ids[i], "provider": provider,
                       "family": families[fam_l[i] % len(families)], "region": _REGIONS[region_l[i]]}
        for key, values, miss in num_items:
            state = miss[i]
            if state == 0:
                model[key] = values[i]
            elif state == 2:
                model[key] = None
        for key, values, miss in flag_items:
            if miss[i] == 0:
                model[key] = values[i]
        if not caps_absent[i]:
            model["capabilities"] = [c for c, col in cap_items if col[i]]
        model["meta"] = {"upstream": ids[i].split("/", 1)[1]}
        models.append(model)
    models.sort(key=lambda m: m["id"])
    return models


def catalog_document(models: list[dict]) -> dict:
    return {"format": FORMAT, "fields": [], "models": models}


def catalog_json(models: list[dict]) -> bytes:
    return orjson.dumps(catalog_document(models))
