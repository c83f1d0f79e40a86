"""`aura dev init --from-source` says which step of the build it is on: the real command,
with a stand-in `go` on PATH that answers like the Go tool (module downloads, then one
compiled package per line) and writes binaries that print their version."""

from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

from aura_dev.runtime.gobuild import BuildSteps
from aura_dev.versions import DEFAULT_RUNTIME_VERSION
from conftest import run_aura

FAKE_GO = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    from pathlib import Path
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print("go version go1.26.8 linux/amd64")
    elif args[:2] == ["mod", "download"]:
        module = Path(os.environ["FAKE_GO_MODULE"])
        module.mkdir(parents=True, exist_ok=True)
        (module / "go.mod").write_text("module github.com/dapr/dapr\\n\\ngo 1.26\\n")
        (module / "go.sum").write_text("")
        print(json.dumps({{"GoMod": str(module / "go.mod"), "Dir": str(module)}}))
    elif args[:1] == ["build"]:
        out = Path(args[args.index("-o") + 1])
        if out.name == "daprd":  # the first build fetches the modules
            for name in ("github.com/a/one v1.0.0", "github.com/b/two v2.1.0"):
                print("go: downloading " + name, flush=True)
        for index in range(3):
            print(f"github.com/dapr/dapr/pkg/{{out.name}}/part{{index}}", flush=True)
        out.write_text("#!/bin/sh\\necho {version}\\n")
        out.chmod(0o755)
    else:
        sys.exit("fake go: unexpected " + " ".join(args))
    """)


def test_a_source_build_names_each_step_as_it_ends(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO.format(python=sys.executable, version=DEFAULT_RUNTIME_VERSION))
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "AURA_DATA_DIR": str(tmp_path / "data"),
           "AURA_CACHE_DIR": str(tmp_path / "cache"), "FAKE_GO_MODULE": str(tmp_path / "module"),
           "HOME": str(tmp_path), "DAPR_RUNTIME_PATH": ""}
    done = run_aura("dev", "init", "--from-source", env=env)
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stderr.splitlines()]
    said = [line.split(" in ")[0] for line in lines if line.startswith(("downloaded", "built "))]
    assert said[:4] == ["downloaded 2 modules", "built daprd (3 packages)", "built placement (3 packages)",
                        "built scheduler (3 packages)"], done.stderr


def test_the_step_titles_follow_the_build() -> None:
    steps = BuildSteps()
    titles = [steps.title()]
    steps.building("daprd")
    steps.line("go: downloading github.com/a/one v1.0.0")
    titles.append(steps.title())
    assert steps.detail == "1 modules · github.com/a/one v1.0.0"
    steps.line("github.com/dapr/dapr/pkg/x")
    titles.append(steps.title())
    steps.building("placement")
    titles.append(steps.title())
    steps.building("scheduler")
    titles.append(steps.title())
    assert titles == ["[1/4] download modules", "[1/4] download modules", "[2/4] build daprd",
                      "[3/4] build placement", "[4/4] build scheduler"]
    assert steps.finish() is not None and steps.title() == "[4/4] build scheduler"
