"""Build frozen dataclass configs from plain dicts (YAML / JSON), checking every key."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, TypeVar

from ..errors import ConfigError

T = TypeVar("T")


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """``cls(**data)`` where unknown keys are a ConfigError with a "did you mean" hint; lists become
    tuples so the frozen config stays hashable."""
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
            raise ConfigError(f"{cls.__name__} has no field {key!r}{hint}")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return cls(**clean)
    except TypeError as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """JSON-ready dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}
