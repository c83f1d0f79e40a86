from aura_dev.runtime.gobuild import not_served_error

PROXY_403 = (
    "go: github.com/dapr/durabletask-go@v0.12.4: reading https://proxy.golang.org/github.com/dapr/"
    "durabletask-go/@v/v0.12.4.zip: 403 Forbidden\n\tserver response: This module version is not available\n"
)


def test_a_refused_module_is_named_with_its_version_and_the_pinned_version_suggested() -> None:
    error = not_served_error(PROXY_403, "1.18.3")
    assert error is not None
    assert "github.com/dapr/durabletask-go@v0.12.4" in error.message
    assert "Dapr 1.18.3" in error.message
    assert error.hint is not None and "--runtime-version 1.18.2" in error.hint


def test_other_failures_are_not_mistaken_for_a_refusal() -> None:
    assert not_served_error("main.go:3: undefined: foo", "1.18.2") is None
