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

import bisect
import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

MAX_DEPTH = 64  # nesting levels; aura.yaml needs about 6
MAX_BYTES = 1024 * 1024  # a workspace file is settings: a few kilobytes
MERGE_TAG = "tag:yaml.org,2002:merge"
PLAIN_TEXT_TAGS = frozenset({MERGE_TAG, "tag:yaml.org,2002:value"})


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


class YamlRefused(YamlSyntaxError):
    """YAML (or not even text) that aura will not read: too large, not UTF-8, nested too
    deep, recursive, an alias bomb, a tag for a foreign type.  Not a syntax error: the
    message stands on its own."""


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _Lines:
    """Character offset → line and column, counting line breaks as editors do
    (`\\n`, `\\r\\n`, `\\r`; PyYAML also counts U+2028 and friends, which editors do not)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        index = 0
        while True:
            found = min((p for p in (text.find("\n", index), text.find("\r", index)) if p >= 0), default=-1)
            if found < 0:
                break
            index = found + (2 if text.startswith("\r\n", found) else 1)
            self.starts.append(index)
        self.length = len(text)

    def at(self, offset: int) -> Location:
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset) - 1
        return Location(line + 1, offset - self.starts[line] + 1)


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


def decode(data: bytes) -> str:
    """The text of a YAML file: UTF-8 (a BOM is dropped), or UTF-16/32 with a BOM, as YAML allows."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode(data, codec)
    return _decode(data, "utf-8")


def _decode(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        name = codec.removesuffix("-sig").upper()
        if name != "UTF-8":  # the text has no lines to point into: point at the byte order mark
            raise YamlRefused(f"the file starts with a {name} byte order mark, but byte {exc.start} cannot be "
                                  f"decoded as {name} (save the file as UTF-8)", Location(1, 1)) from None
        before = data[: exc.start].decode(codec, errors="replace")
        where = _Lines(before).at(len(before))
        raise YamlRefused(f"the file is not {name} text: byte 0x{data[exc.start]:02x} at line {where.line}, "
                              f"column {where.column} cannot be decoded (save the file as UTF-8)", where) from None


def parse_yaml(text: str, path: Path) -> SourceDocument:
    """`text` as a document with locations; YamlSyntaxError for anything that is not YAML aura can read."""
    lines = _Lines(text)
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


def _syntax_error(exc: yaml.MarkedYAMLError, lines: _Lines) -> YamlSyntaxError:
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

    def __init__(self, doc: SourceDocument, loader: _Loader, lines: _Lines, budget: int) -> None:
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


def read_text(path: Path) -> str:
    """The file's text (see `decode`); OSError if it cannot be read, YamlSyntaxError if it is too
    large or not text."""
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        size = path.stat().st_size
        raise YamlRefused(f"the file is {size / 1e6:.1f} MB; aura reads workspace files of up to "
                              f"{MAX_BYTES // 1024 // 1024} MB (a workspace file holds settings, not data)",
                              Location(1, 1))
    return decode(data)


def load_yaml_file(path: Path) -> SourceDocument:
    return parse_yaml(read_text(path), path)
