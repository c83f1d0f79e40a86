"""Adding an entry to a YAML file the user wrote, keeping every other byte of it.

ruamel.yaml's round-trip parser knows where each key stands.  Its round-trip *dump* keeps
comments too, but it hangs a trailing comment or blank line on the node before it, so an
entry appended after that node lands below the comment, and the blank lines that
separated blocks move.  So the entry's text (dumped by ruamel) is spliced in after the
last line of its predecessor, at the position the parser reports, and the result is
parsed again and compared with the intended data.  Where a splice cannot work (a flow
mapping such as `services: {}`, an empty `services:`), the whole document goes through
ruamel's round trip instead, but only when that reproduces the untouched file exactly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

KeyPath = tuple[str, ...]


class YamlEditError(Exception):
    """The edit would change more than the new entry.  `fragment` is the entry's text."""

    def __init__(self, message: str, fragment: str) -> None:
        super().__init__(message)
        self.message = message
        self.fragment = fragment


def flow_list(items: Sequence[Any]) -> CommentedSeq:
    """A list written on one line, `[a, b]`, as people write short lists in aura.yaml."""
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def add_entry(text: str, parent: KeyPath, key: str, value: Any, *, after: str | None = None) -> str:
    """`text` with `key: value` added to the mapping at `parent` (created when missing),
    after the entry `after` when the mapping has it, else at its end."""
    yaml, indent = _round_trip(text)
    doc = yaml.load(text)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise YamlEditError("the file is not a YAML mapping", _fragment(key, value, 0, indent))
    node: Any = doc
    for depth, part in enumerate(parent):
        if part not in node:
            # The parent mapping is missing: add it, holding the entry, one level up.
            nested: Any = CommentedMap([(key, value)])
            for name in reversed(parent[depth + 1:]):
                nested = CommentedMap([(name, nested)])
            return add_entry(text, parent[:depth], part, nested, after=after)
        node = node[part]
        if not isinstance(node, CommentedMap):
            break  # empty (`services:`): only the whole-document round trip can fill it
    if isinstance(node, CommentedMap) and key in node:
        raise YamlEditError(f"{'.'.join(parent + (key,))} is already set", _fragment(key, value, 0, indent))
    expected = plain(doc)
    target = expected
    for part in parent:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[key] = plain(value)

    if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
        spliced = _splice(text, node, key, value, after, indent)
        if _reads_as(spliced, expected):
            return spliced
    return _dump_whole(text, yaml, doc, parent, key, value, after, expected, indent)


def plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (scalars compare as they are)."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def _reads_as(text: str, expected: Any) -> bool:
    try:
        return bool(plain(_round_trip(text)[0].load(text)) == expected)
    except YAMLError:
        return False


def _round_trip(text: str) -> tuple[YAML, int]:
    """A round-trip YAML set up like `text`: its indentation, quotes kept, lines never wrapped;
    and the indentation of its nested mappings."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        data, guessed, offset = load_yaml_guess_indent(text)
    except Exception:  # the real parse reports the problem
        data, guessed, offset = None, None, None
    # The guess follows the first block sequence; a nested mapping says what mappings use.
    indent = _mapping_indent(data) or guessed or 2
    offset = offset or 0
    yaml.indent(mapping=indent, sequence=max(guessed or indent, offset + 2), offset=offset)
    return yaml, indent


def _mapping_indent(node: Any) -> int | None:
    """How far the first nested block mapping of `node` is indented under its key."""
    if not isinstance(node, CommentedMap) or node.fa.flow_style():
        return None
    for key, child in node.items():
        if isinstance(child, CommentedMap) and child and not child.fa.flow_style():
            return int(child.lc.key(next(iter(child)))[1] - node.lc.key(key)[1])
    for child in node.values():
        found = _mapping_indent(child)
        if found:
            return found
    return None


def _splice(text: str, node: CommentedMap, key: str, value: Any, after: str | None, indent: int) -> str:
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in text else "\n"
    keys = list(node.keys())
    anchor = after if after in node else keys[-1]
    position = keys.index(anchor)
    line, column = node.lc.key(anchor)
    end = _entry_end(lines, line, column)
    # Blank lines between the entries of this mapping: keep the habit for the new one.
    separated = (position > 0 and not lines[line - 1].strip()) or (
        position + 1 < len(keys) and end < len(lines) and not lines[end].strip())
    child = node[anchor]
    if isinstance(child, CommentedMap) and child and not child.fa.flow_style():
        indent = child.lc.key(next(iter(child)))[1] - column
    head = lines[:end]
    if head and not head[-1].endswith("\n"):
        head[-1] += newline
    fragment = _fragment(key, value, column, indent).replace("\n", newline)
    return "".join(head) + (newline if separated else "") + fragment + "".join(lines[end:])


def _entry_end(lines: list[str], line: int, column: int) -> int:
    """Index of the line after the entry whose key is at (`line`, `column`): its value runs
    on while lines are indented deeper; a shallower comment belongs to what follows."""
    end = line + 1
    for index in range(line + 1, len(lines)):
        stripped = lines[index].strip()
        if not stripped:
            continue
        depth = len(lines[index]) - len(lines[index].lstrip(" "))
        if depth > column:
            end = index + 1
        elif not stripped.startswith("#"):
            break
    return end


def _fragment(key: str, value: Any, column: int, indent: int) -> str:
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=indent, sequence=indent, offset=0)
    out = io.StringIO()
    yaml.dump(CommentedMap([(key, value)]), out)
    return "".join(" " * column + line if line.strip() else line for line in out.getvalue().splitlines(keepends=True))


def _dump_whole(text: str, yaml: YAML, doc: CommentedMap, parent: KeyPath, key: str, value: Any,
                after: str | None, expected: Any, indent: int) -> str:
    fragment = _fragment(key, value, 2 * len(parent), indent)
    before = io.StringIO()
    yaml.dump(doc, before)
    if text.strip() and before.getvalue() != text:
        raise YamlEditError("its formatting cannot be kept by a round trip (mixed indentation?)", fragment)
    node: Any = doc
    for part in parent:
        if not isinstance(node.get(part), CommentedMap):
            node[part] = CommentedMap()
        node = node[part]
    keys = list(node.keys())
    position = keys.index(after) + 1 if after in node else len(keys)
    node.insert(position, key, value)
    out = io.StringIO()
    yaml.dump(doc, out)
    result = out.getvalue()
    if not _reads_as(result, expected):
        raise YamlEditError("the edited file would not read back as intended", fragment)
    return result
