from pathlib import Path

from aura_dev.reload import ServiceWatch, matches, route

ROOT = Path("/ws")
SERVICE = ServiceWatch("api", ROOT / "services" / "api", watch=(), ignore=("fixtures/**", "*.csv"))


def test_default_ignores_keep_noise_out() -> None:
    for noise in ("__pycache__/app.cpython-311.pyc", "node_modules/x/index.js", ".git/HEAD", "app.py.swp",
                  "app.py~", ".#app.py", "server.log", ".venv/lib/x.py", "build/out.js", "4913"):
        assert not SERVICE.relevant(SERVICE.root / noise), noise
    assert SERVICE.relevant(SERVICE.root / "app.py")
    assert SERVICE.relevant(SERVICE.root / "pkg" / "module.py")


def test_service_ignore_and_watch_globs() -> None:
    assert not SERVICE.relevant(SERVICE.root / "fixtures" / "deep" / "a.py")
    assert not SERVICE.relevant(SERVICE.root / "data" / "table.csv")
    only_py = ServiceWatch("api", SERVICE.root, watch=("**/*.py",), ignore=())
    assert only_py.relevant(SERVICE.root / "a" / "b.py")
    assert only_py.relevant(SERVICE.root / "b.py")
    assert not only_py.relevant(SERVICE.root / "README.md")


def test_glob_semantics() -> None:
    assert matches("a/b/c.txt", ["*.txt"])
    assert matches("src/x.py", ["src/*.py"])
    assert not matches("lib/src/x.py", ["src/*.py"])
    assert matches("lib/src/x.py", ["**/src/*.py"])
    assert matches("dist/app.js", ["dist"])


def test_route_sends_each_path_to_its_owner() -> None:
    resources = ROOT / "components"
    routed = route(
        [SERVICE.root / "app.py", ROOT / "aura.yaml", resources / "statestore.yaml", resources / ".x.swp",
         ROOT / ".aura" / "logs" / "services" / "api" / "00000001.log", SERVICE.root / "__pycache__" / "a.pyc"],
        [SERVICE], [resources], ROOT / "aura.yaml")
    assert routed.services == {"api": [SERVICE.root / "app.py"]}
    assert routed.resources == {resources: [resources / "statestore.yaml"]}
    assert routed.workspace_file
