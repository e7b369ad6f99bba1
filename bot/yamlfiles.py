"""The one reader of the YAML files in `prompts/`, and the one `placeholders()`.

Texts, rewrite prompts and the checklist are all read here, the same strict way: a key
given twice is an error (plain YAML keeps the last one silently), only true/false are
booleans, and a file that does not fit its pydantic model raises the caller's error with one
line naming the file. Each loader checks its own placeholders with `placeholders()`.
"""

from __future__ import annotations

import re
import string
from importlib.abc import Traversable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

# libyaml's parser when PyYAML was built with it (its wheels are): ~20x faster at start.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping gives the same key twice."""

    def __init__(self, key: object, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"key {key!r} appears twice", mark)
        self.key = key
        self.line = mark.line + 1


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses a key given twice and reads yes/no/on/off as words."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        # construct_mapping below builds each key again from the loader's cache: no extra cost.
        key = loader.construct_object(key_node)
        if key in seen:
            raise DuplicateKeyError(key, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Word lists hold words like "on", "no" and "yes", which YAML 1.1 would turn into
# booleans: only true/false are booleans here.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str) -> Any:
    """A YAML document as Python values, strictly; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def _describe(error: ValidationError, limit: int = 3) -> str:
    problems = []
    for detail in error.errors()[:limit]:
        where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        if detail["type"] == "missing":
            problems.append(f"missing key: {where}")
        elif detail["type"] == "extra_forbidden":
            problems.append(f"unknown key: {where}")
        else:
            problems.append(f"{where}: {detail['msg']}")
    more = len(error.errors()) - limit
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def read_model(
    source: Traversable, model: type[ModelT], error: type[Exception], *, name: str = ""
) -> ModelT:
    """A YAML file parsed into its model; any problem raises `error` with one line naming
    the file (as `name`, else its path) and what is wrong in it."""
    shown = name or str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{shown}: cannot be read ({exc})") from None
    try:
        data = parse_yaml(text)
    except DuplicateKeyError as exc:
        raise error(f"{shown}: line {exc.line}: key {exc.key!r} appears twice") from None
    except yaml.YAMLError as exc:
        raise error(f"{shown}: not valid YAML ({exc})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{shown}: {_describe(exc)}") from None


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a template uses; raises ValueError for anything but plain names."""
    names = set()
    # Formatter.parse raises ValueError itself for an unmatched brace.
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be a plain {{name}}")
        names.add(field)
    return frozenset(names)
