"""Load YAML data files and validate them with pydantic models, failing with a precise message.

Every data file a patient's words or the safety rules depend on goes through `load_yaml_model`,
so a bad file stops start-up with the file, the entry and the problem named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
# libyaml's C parser when it is there (about ten times faster), same safe subset either way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataError(Exception):
    """A data file (intents, rules or content) is missing, unreadable or invalid."""


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning parse errors into a `DataError` that names the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML: {exc}") from exc


def _entry_name(data: Any, loc: tuple[int | str, ...]) -> str:
    """Describe where an error sits, naming the entry by its `id` when it has one."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts.append(f"[{key}] (id {ident!r})" if ident else f"[{key}]")
        elif isinstance(node, dict) and key in node:
            node = node[key]
            parts.append(f".{key}")
        else:
            node = None
            parts.append(f".{key}")
    return "".join(parts).lstrip(".") or "(top level)"


def validate(path: Path, data: Any, model: type[M]) -> M:
    """Validate parsed data against `model`; raise `DataError` naming file, entry and problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: invalid content"]
        for err in exc.errors():
            lines.append(f"  - entry {_entry_name(data, tuple(err['loc']))}: {err['msg']}")
        raise DataError("\n".join(lines)) from None


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Read and validate one YAML file."""
    return validate(path, read_yaml(path), model)
