"""Adding an entry to aura.yaml keeps every comment, blank line and quote of the user's file."""

from __future__ import annotations

import difflib
import textwrap

import pytest
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from aura_dev.scaffold.yamledit import YamlEditError, add_entry, flow_list
from conftest import REPO


def entry() -> CommentedMap:
    service = CommentedMap()
    service["path"] = "services/billing"
    service["command"] = flow_list(["python", "app.py", "--port", DoubleQuotedScalarString("{port}")])
    service["dependsOn"] = flow_list(["api"])
    return service


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it changes or drops any line."""
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines()).get_opcodes():
        assert op in ("equal", "insert"), f"{op} of {before.splitlines()[i1:i2]}"
        if op == "insert":
            added += after.splitlines()[j1:j2]
    return added


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


BLOCK = ["  billing:", "    path: services/billing", '    command: [python, app.py, --port, "{port}"]',
         "    dependsOn: [api]"]


def test_sample_workspace_gets_one_block_after_a_blank_line() -> None:
    before = (REPO / "sample-workspace" / "aura.yaml").read_text()
    after = add_entry(before, ("services",), "billing", entry())
    assert after == before + "\n" + "\n".join(BLOCK) + "\n"


@pytest.mark.parametrize("before, expected_tail", [
    # A comment closing the file stays last; one deeper than the entry stays with it.
    (dedent("""
        name: w   # the name
        services:
          api:
            path: a
            command:
              - python
            # about api's command
          worker:   # eol
            path: w
            command: [x]   # eol
        # closing comment
        """), "# closing comment\n"),
    # A commented-out entry belongs to what follows it.
    (dedent("""
        name: w
        services:
          api:
            path: a
            command: [x]

          # old:
          #   path: o
        logs:
          maxFileSize: 1MB
        """), "  # old:\n  #   path: o\nlogs:\n  maxFileSize: 1MB\n"),
])
def test_comments_and_blank_lines_stay_where_they_were(before: str, expected_tail: str) -> None:
    after = add_entry(before, ("services",), "billing", entry())
    assert [line.strip() for line in added_lines(before, after)] == [line.strip() for line in BLOCK]
    assert after.endswith(expected_tail)


def test_indentation_of_the_file_is_followed() -> None:
    before = "name: w\nservices:\n    api:\n        path: a\n        command: [x]\n"
    after = add_entry(before, ("services",), "billing", entry())
    assert added_lines(before, after) == ["    billing:", "        path: services/billing",
                                          '        command: [python, app.py, --port, "{port}"]',
                                          "        dependsOn: [api]"]


def test_missing_parent_mapping_is_added_after_the_named_key() -> None:
    before = "# head\nname: w\n\nservices:\n  api:\n    path: a\n"
    after = add_entry(before, ("dapr",), "resources", flow_list(["components"]), after="name")
    assert after == "# head\nname: w\n\ndapr:\n  resources: [components]\n\nservices:\n  api:\n    path: a\n"


def test_existing_parent_mapping_gets_the_key_at_its_end() -> None:
    before = "name: w\n\ndapr:\n  logLevel: info\n\nservices: {}\n"
    after = add_entry(before, ("dapr",), "resources", flow_list(["components"]), after="name")
    assert after == "name: w\n\ndapr:\n  logLevel: info\n  resources: [components]\n\nservices: {}\n"


@pytest.mark.parametrize("before", ["name: w\nservices:\n", "name: w\nservices: {}\n", "name: w  # c\n"])
def test_empty_or_missing_services_are_filled(before: str) -> None:
    after = add_entry(before, ("services",), "billing", entry())
    assert after.startswith(before.splitlines()[0] + "\n")
    assert "\n".join(BLOCK) in after


def test_crlf_files_stay_crlf() -> None:
    before = "name: w\r\nservices:\r\n  api:\r\n    path: a\r\n"
    after = add_entry(before, ("services",), "billing", entry())
    assert after.startswith(before) and "\n" not in after.replace("\r\n", "")


def test_a_key_that_exists_is_refused() -> None:
    with pytest.raises(YamlEditError, match="already set"):
        add_entry("services:\n  billing:\n    path: b\n", ("services",), "billing", entry())


def test_a_file_a_round_trip_would_reformat_is_refused_with_the_fragment() -> None:
    # A flow mapping cannot take a spliced block, and its odd spacing would not survive a dump.
    before = "name: w\nservices: {  api: {path: a,   command: [x]}  }\n"
    with pytest.raises(YamlEditError) as caught:
        add_entry(before, ("services",), "billing", entry())
    assert "billing:" in caught.value.fragment
