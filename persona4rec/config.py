"""Typed configuration: one dataclass per component, filled from defaults < TOML file < environment < flags.

A component declares `@dataclass class FooConfig` with defaults; `load_config(FooConfig, section="foo",
path=..., overrides=...)` reads `[foo]` from a TOML file, then `PERSONA4REC_FOO_<FIELD>` variables, then
explicit overrides (CLI flags; None means "not given"). Values are coerced to the field's type, and a bad
value raises ConfigError naming the source and the field.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
            if type(None) in args:
                return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: cannot read {value!r} as {annotation}")
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if annotation in (int, float, str):
            if annotation is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return annotation(value)
        if annotation is Path:
            return Path(value)
        if origin in (list, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            inner = args[0] if args else str
            return origin(_coerce(v.strip() if isinstance(v, str) else v, inner, where) for v in items)
        if origin is dict or annotation is dict:
            if not isinstance(value, dict):
                raise ValueError(value)
            return dict(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: cannot read {value!r} as {getattr(annotation, '__name__', annotation)}") from None
    return value


def load_config(
    cls: type[T],
    *,
    section: str | None = None,
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    env_prefix: str | None = None,
) -> T:
    """Build `cls` from its defaults, a TOML file section, environment variables and overrides."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}

    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: configuration file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if section:
            data = data.get(section, {})
        for key, val in data.items():
            if key not in fields:
                raise ConfigError(f"{path}: [{section}] has unknown field '{key}' (known: {', '.join(sorted(fields))})")
            values[key] = _coerce(val, hints[key], f"{path} [{section}] field '{key}'")

    prefix = env_prefix or (f"PERSONA4REC_{section.upper()}_" if section else "PERSONA4REC_")
    for name in fields:
        env_name = prefix + name.upper()
        if env_name in os.environ:
            values[name] = _coerce(os.environ[env_name], hints[name], f"environment variable {env_name}")

    for key, val in (overrides or {}).items():
        if val is None:
            continue
        if key not in fields:
            raise ConfigError(f"unknown option '{key}' for {cls.__name__}")
        values[key] = _coerce(val, hints[key], f"option '{key}'")
    return cls(**values)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-friendly dict of a config dataclass (for manifests and reports)."""
    out = {}
    for key, val in dataclasses.asdict(config).items():
        out[key] = str(val) if isinstance(val, Path) else val
    return out
