"""Env files are read as python-dotenv reads them, expanded against the app's environment."""

from __future__ import annotations

from pathlib import Path

from aura_dev.plan.env import read_env_file


def test_dotenv_syntax(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# a comment\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "INLINE=kept # this comment is not part of the value\n"
        "QUOTED='a # inside quotes stays'\n"
        'DOUBLE="two words"\n'
        "EMPTY=\n"
        "NO_EQUALS\n"
        'MULTI="line one\nline two"\n'
    )
    values = read_env_file(env)
    assert values == {"PLAIN": "value", "EXPORTED": "yes", "INLINE": "kept", "QUOTED": "a # inside quotes stays",
                      "DOUBLE": "two words", "EMPTY": "", "MULTI": "line one\nline two"}


def test_variables_expand_against_the_app_env_and_earlier_keys(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "HOST=127.0.0.1\n"
        "URL=http://${HOST}:${APP_PORT}/v1\n"
        "FALLBACK=${MISSING:-default}\n"
        "UNKNOWN=[${NOPE}]\n"
    )
    values = read_env_file(env, {"APP_PORT": "8080", "HOST": "ignored: the file's own key wins"})
    assert values["URL"] == "http://127.0.0.1:8080/v1"
    assert values["FALLBACK"] == "default"
    assert values["UNKNOWN"] == "[]"
