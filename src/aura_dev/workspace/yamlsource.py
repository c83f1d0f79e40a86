"""YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we construct plain Python values from them
ourselves so that (a) every key path maps to its `line:column`, and (b) a duplicate key
is reported as a problem instead of silently overwriting the first one, as
`yaml.safe_load` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class DuplicateKey:
    path: KeyPath
    first: Location
    again: Location


@dataclass
class SourceDocument:
    """A parsed YAML file: its value, where each key path starts, and duplicate keys."""

    path: Path
    data: Any
    value_locations: dict[KeyPath, Location] = field(default_factory=dict)
    key_locations: dict[KeyPath, Location] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)

    def locate(self, path: KeyPath, *, prefer_key: bool = False) -> Location:
        """The closest known location of `path`: itself, or its nearest ancestor."""
        probe = tuple(path)
        while True:
            if prefer_key and probe in self.key_locations:
                return self.key_locations[probe]
            if probe in self.value_locations:
                return self.value_locations[probe]
            if probe in self.key_locations:
                return self.key_locations[probe]
            if not probe:
                return Location(1, 1)
            probe = probe[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


def _location(mark: Any) -> Location:
    return Location(mark.line + 1, mark.column + 1)


def parse_yaml(text: str, path: Path) -> SourceDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _location(mark) if mark is not None else Location(1, 1)
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}: {problem}"
            if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
                opened = _location(exc.context_mark)
                problem += f" (opened at line {opened.line}, column {opened.column})"
        raise YamlSyntaxError(problem, where) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), Location(1, 1)) from exc
    doc = SourceDocument(path=path, data=None)
    if node is None:
        return doc
    constructor = yaml.SafeLoader(text)
    try:
        doc.data = _construct(node, (), doc, constructor)
    finally:
        constructor.dispose()
    return doc


def _construct(node: yaml.Node, path: KeyPath, doc: SourceDocument, constructor: yaml.SafeLoader) -> Any:
    doc.value_locations.setdefault(path, _location(node.start_mark))
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # resolves `<<:` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            child = path + (key if isinstance(key, (str, int)) else str(key),)
            if key in result:
                doc.duplicates.append(DuplicateKey(child, doc.key_locations[child], _location(key_node.start_mark)))
                continue
            doc.key_locations[child] = _location(key_node.start_mark)
            result[key] = _construct(value_node, child, doc, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (index,), doc, constructor) for index, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def load_yaml_file(path: Path) -> SourceDocument:
    return parse_yaml(path.read_text(encoding="utf-8"), path)
