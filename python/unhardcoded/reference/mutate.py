"""The mutate slot (spec §2.4): `id`, or `clamp_param` on the outgoing chat request."""
from __future__ import annotations

import copy
import math

from .vocab import INTEGER_PARAMS


def apply(mutate_term: list, request: dict) -> dict:
    """Returns the mutated copy of `request`; the input is left untouched."""
    out = copy.deepcopy(request)
    if mutate_term[0] != "clamp_param":
        return out
    _, name, low, high = mutate_term
    value = out.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return out
    if name in INTEGER_PARAMS:
        low, high = float(math.ceil(low)), float(math.floor(high))
    out[name] = min(max(value, low), high)
    return out
