"""A spec with its optimize block changed, as the command line's options ask."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationError

from . import rules
from .models import Optimize, Spec


def with_settings(spec: Spec, changes: Mapping[str, Any]) -> Spec:
    """`spec` with its optimize block changed by `changes` (field -> value).

    A spec without an optimize block gets one: the defaults plus `changes`.
    Raises ValueError, with a message for people, when the result is not a
    valid block (for example method random with the spec's optimizer adam).
    """
    if not changes:
        return spec
    given = spec.optimize.model_dump(exclude_unset=True) if spec.optimize is not None else {}
    if spec.loss is not None:  # a loss is minimized: the default goal, and the only one
        if changes.get("goal") == "maximize":
            raise ValueError(f"optimize.goal: {rules.LOSS_IS_MINIMIZED}")
        given.setdefault("goal", "minimize")
    try:
        settings = Optimize.model_validate({**given, **changes})
    except ValidationError as err:
        raise ValueError("; ".join(f"optimize.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                   for e in err.errors(include_url=False))) from None
    return spec.model_copy(update={"optimize": settings})
