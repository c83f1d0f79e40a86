"""Names aura proposes are names aura accepts (issue 22: 'café' -> 'caf', a 70-letter
name proposed as its own fix)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aura_dev.workspace.names import app_id_problem, dns_label_problem, service_name_problem, suggest_label


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(max_size=100), taken=st.sets(st.text(max_size=70), max_size=5))
def test_a_suggested_label_passes_every_name_rule_and_is_free(text: str, taken: set[str]) -> None:
    label = suggest_label(text, taken=taken | {"app", "app-2"})
    assert app_id_problem(label) is None
    assert service_name_problem(label) is None
    assert label not in taken


def test_suggestions_keep_what_can_be_kept() -> None:
    assert suggest_label("café") == "cafe"
    assert suggest_label("Order_Processor") == "order-processor"
    assert suggest_label("a" * 70) == "a" * 63
    assert suggest_label("api", taken={"api", "api-2"}) == "api-3"
    assert suggest_label("!!!") == "app"


def test_each_name_problem_states_the_reason_that_holds() -> None:
    assert service_name_problem("abcdefghij" * 7) == (
        "service name 'abcdefghijabcdefghi…bcdefghijabcdefghij' is 70 characters long; at most 63 are allowed")
    assert service_name_problem("café") == (
        "service name 'café' holds 'é': only ASCII letters, digits, '.', '_' and '-' are allowed")
    assert service_name_problem("_x") == "service name '_x' starts with '_': it must start with a letter or digit"
    assert app_id_problem("my.app") == "app id 'my.app' contains a dot, which daprd refuses"
    assert dns_label_problem("-x", "namespace") == (
        "namespace '-x' starts or ends with '-': it must start and end with a letter or digit")
    assert dns_label_problem("", "namespace") == "namespace is empty"
