"""YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we construct plain Python values from them
ourselves so that (a) every key path maps to its `line:column`, and (b) a duplicate key
is reported as a problem instead of silently overwriting the first one, as
`yaml.safe_load` does.

Merge keys (`<<: *defaults`) follow YAML's rules: a key written in the mapping wins over
a merged one, earlier merged mappings win over later ones; only a key written twice in
one mapping is a duplicate.  Whatever the input, parsing raises `YamlSyntaxError` (with a
location that exists in the text) or returns: a deeply nested, self-referencing or
alias-exploding document is refused, never a stack overflow or an exhausted memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aura_dev.workspace.source_doc import MAX_BYTES as MAX_BYTES
from aura_dev.workspace.source_doc import DuplicateKey as DuplicateKey
from aura_dev.workspace.source_doc import KeyPath as KeyPath
from aura_dev.workspace.source_doc import Lines as Lines
from aura_dev.workspace.source_doc import Location as Location
from aura_dev.workspace.source_doc import SourceDocument as SourceDocument
from aura_dev.workspace.source_doc import YamlRefused as YamlRefused
from aura_dev.workspace.source_doc import YamlSyntaxError as YamlSyntaxError
from aura_dev.workspace.source_doc import decode as decode
from aura_dev.workspace.source_doc import read_text as read_text

MAX_DEPTH = 64  # nesting levels; aura.yaml needs about 6
MERGE_TAG = "tag:yaml.org,2002:merge"
PLAIN_TEXT_TAGS = frozenset({MERGE_TAG, "tag:yaml.org,2002:value"})


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _AliasRef(yaml.Node):
    """Where an alias (`*name`) is written, and the node it names: PyYAML's composer gives
    the anchored node itself, which loses the alias's own place."""

    def __init__(self, target: yaml.Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target


class _Loader(yaml.SafeLoader):
    """The safe loader, with nesting bounded and aliases kept apart from their anchors."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        self.nodes += 1
        if isinstance(event, yaml.AliasEvent):
            target = super().compose_node(parent, index)
            assert target is not None  # an alias always names a node
            return _AliasRef(target, event.start_mark, event.end_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(None, None, f"values are nested more than {MAX_DEPTH} levels deep; aura reads at "
                                           f"most {MAX_DEPTH}", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str, path: Path) -> SourceDocument:
    """`text` as a document with locations; YamlSyntaxError for anything that is not YAML aura can read."""
    lines = Lines(text)
    loader: _Loader | None = None
    try:
        try:
            loader = _Loader(text)
            node = loader.get_single_node()
        except _TooDeep as exc:
            mark = exc.problem_mark
            raise YamlRefused(str(exc.problem), lines.at(mark.index) if mark else Location(1, 1)) from None
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, lines) from None
        except yaml.reader.ReaderError as exc:
            code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
            raise YamlSyntaxError(f"the control character {chr(code)!r} (#x{code:04x}) is not allowed in YAML",
                                  lines.at(exc.position)) from None
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(str(exc), Location(1, 1)) from None
        doc = SourceDocument(path=path, data=None)
        if node is not None:
            builder = _Builder(doc, loader, lines, budget=2 * loader.nodes + 10_000)
            doc.data = builder.value(node, (), frozenset())
        return doc
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, lines: Lines) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    where = lines.at(mark.index) if mark is not None else Location(1, 1)
    problem = exc.problem or str(exc)
    if len(problem) > 300:  # PyYAML quotes what it found (an alias name, a token) whole
        problem = problem[:300] + "…"
    if exc.context:
        problem = f"{exc.context}: {problem}"
        if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
            opened = lines.at(exc.context_mark.index)
            problem += f" (opened at line {opened.line}, column {opened.column})"
    return YamlSyntaxError(problem, where)


class _Builder:
    """Plain values from nodes, recording locations and duplicate keys on the way."""

    def __init__(self, doc: SourceDocument, loader: _Loader, lines: Lines, budget: int) -> None:
        self.doc = doc
        self.loader = loader
        self.lines = lines
        self.budget = self.limit = budget  # values left to build: aliases may not multiply the document
        self.reported: set[Location] = set()

    def at(self, node: yaml.Node) -> Location:
        return self.lines.at(node.start_mark.index)

    def value(self, node: yaml.Node, path: KeyPath, open_nodes: frozenset[int]) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlRefused(f"aliases expand this document to more than {self.limit} values (an alias bomb)",
                                  self.at(node))
        if len(open_nodes) > MAX_DEPTH:
            raise YamlRefused(f"values are nested more than {MAX_DEPTH} levels deep (through aliases)",
                                  self.at(node))
        self.doc.value_locations.setdefault(path, self.at(node))
        target = _deref(node)
        if id(target) in open_nodes:
            raise YamlRefused("this alias refers to a value that contains it: aura cannot read a recursive value",
                              self.at(node))
        inside = open_nodes | {id(target)}
        if isinstance(target, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key, key_node, value_node in self.entries(target, path, inside):
                child = path + (_path_part(key),)
                self.doc.key_locations.setdefault(child, self.at(key_node))
                result[key] = self.value(value_node, child, inside)
            return result
        if isinstance(target, yaml.SequenceNode):
            return [self.value(item, path + (index,), inside) for index, item in enumerate(target.value)]
        return self.scalar(target, node)

    def scalar(self, target: yaml.Node, written: yaml.Node) -> Any:
        if target.tag in PLAIN_TEXT_TAGS:  # `<<` or `=` as a value: text (the safe loader has no constructor)
            return target.value
        try:
            return self.loader.construct_object(target, deep=True)
        except Exception as exc:  # noqa: BLE001 - a bad `!!int x` or `2001-13-45` raises ValueError, KeyError, …
            text = target.value if isinstance(target.value, str) else ""
            tag = target.tag.replace("tag:yaml.org,2002:", "!!")
            if "could not determine a constructor" in str(exc):
                message = f"the tag {tag} is not one aura reads (plain strings, numbers, booleans, lists, mappings)"
            else:
                reason = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
                message = f"cannot read {text[:60]!r} as {tag.removeprefix('!!')}: {reason}; quote it if it is text"
            raise YamlRefused(message, self.at(written)) from None

    def key(self, node: yaml.Node) -> Any:
        target = _deref(node)
        if not isinstance(target, yaml.ScalarNode):
            kind = "mapping" if isinstance(target, yaml.MappingNode) else "list"
            raise YamlRefused(f"a key must be a plain value, not a {kind}", self.at(node))
        key = self.scalar(target, node)
        try:
            hash(key)
        except TypeError:
            return str(key)
        return key

    def entries(self, node: yaml.MappingNode, path: KeyPath,
                open_nodes: frozenset[int]) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """The mapping's key/value pairs with `<<` merges applied: written keys first, then
        merged keys that no written key (nor an earlier merge) supplies."""
        written: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        merges: list[yaml.Node] = []
        merge_key: yaml.Node | None = None
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                if merge_key is not None:
                    self.duplicate(path + ("<<",), merge_key, key_node)
                    continue
                merge_key = key_node
                merges.append(value_node)
                continue
            key = self.key(key_node)
            if key in written:
                self.duplicate(path + (_path_part(key),), written[key][0], key_node)
                continue
            written[key] = (key_node, value_node)
        result = [(key, key_node, value_node) for key, (key_node, value_node) in written.items()]
        supplied = set(written)
        for source in merges:
            for mapping in self.merged_mappings(source):
                if id(mapping) in open_nodes:
                    raise YamlRefused("this merge refers to a mapping that contains it: aura cannot read a "
                                      "recursive value",
                                          self.at(source))
                for key, key_node, value_node in self.entries(mapping, path, open_nodes | {id(mapping)}):
                    if key not in supplied:
                        supplied.add(key)
                        result.append((key, key_node, value_node))
        return result

    def merged_mappings(self, source: yaml.Node) -> list[yaml.MappingNode]:
        target = _deref(source)
        items = [target] if isinstance(target, yaml.MappingNode) else (
            [_deref(item) for item in target.value] if isinstance(target, yaml.SequenceNode) else [])
        if not items or not all(isinstance(item, yaml.MappingNode) for item in items):
            raise YamlSyntaxError("a merge key '<<' takes a mapping (`<<: *defaults`) or a list of mappings "
                                  "(`<<: [*a, *b]`)", self.at(source))
        return [item for item in items if isinstance(item, yaml.MappingNode)]

    def duplicate(self, path: KeyPath, first: yaml.Node, again: yaml.Node) -> None:
        where = self.at(again)
        if where not in self.reported:  # an anchored mapping merged twice is reported once
            self.reported.add(where)
            self.doc.duplicates.append(DuplicateKey(path, self.at(first), where))


def _deref(node: yaml.Node) -> yaml.Node:
    while isinstance(node, _AliasRef):
        node = node.target
    return node


def _path_part(key: Any) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    return str(key)


def load_yaml_file(path: Path) -> SourceDocument:
    return parse_yaml(read_text(path), path)
