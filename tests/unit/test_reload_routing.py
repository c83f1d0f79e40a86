from pathlib import Path

from aura_dev.watch.routing import ServiceWatch, matches, route

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


def test_gitignore_anchors_folders_and_negation() -> None:
    # A leading `/` anchors a pattern to the service folder; without it, any depth.
    assert matches("build.py", ["/build.py"]) and not matches("tools/build.py", ["/build.py"])
    assert matches("tools/build.py", ["build.py"])
    # A trailing `/` matches folders (and so everything below them), never a file of that name.
    assert matches("cache/x.json", ["cache/"]) and not matches("cache", ["cache/"])
    # `!` takes a path back; the last matching pattern wins.
    assert not matches("data/keep.csv", ["*.csv", "!keep.csv"])
    assert matches("data/other.csv", ["*.csv", "!keep.csv"])
    keep = ServiceWatch("api", SERVICE.root, watch=(), ignore=("fixtures/**", "!fixtures/schema.sql"))
    assert keep.relevant(SERVICE.root / "fixtures" / "schema.sql")
    assert not keep.relevant(SERVICE.root / "fixtures" / "rows.sql")
    # Editor files whose names start with `#` (a comment in gitignore syntax) are still ignored.
    assert not SERVICE.relevant(SERVICE.root / "#app.py#")


def test_route_sends_each_path_to_its_owner() -> None:
    resources = ROOT / "components"
    routed = route(
        [SERVICE.root / "app.py", ROOT / "aura.yaml", resources / "statestore.yaml", resources / ".x.swp",
         ROOT / ".aura" / "logs" / "services" / "api" / "00000001.log", SERVICE.root / "__pycache__" / "a.pyc"],
        [SERVICE], [resources], ROOT / "aura.yaml")
    assert routed.services == {"api": [SERVICE.root / "app.py"]}
    assert routed.resources == {resources: [resources / "statestore.yaml"]}
    assert routed.workspace_file


def test_coalescer_one_restart_per_save_and_storms_waited_out() -> None:
    import asyncio

    from aura_dev.watch.coalesce import Coalescer

    async def scenario() -> list[list[str]]:
        restarts: list[list[str]] = []

        async def restart(name: str, files: list[Path], detected: float) -> None:
            restarts.append([f.name for f in files])
            await asyncio.sleep(0.05)  # a quick app

        coalescer = Coalescer(restart, quiet=lambda name: 0.03)
        loop = asyncio.get_running_loop()
        coalescer.request("api", [Path("a.py")], loop.time())  # a single save
        await asyncio.sleep(0.2)
        await coalescer.idle()
        for index in range(60):  # a storm: a save every 20 ms, gaps that are not always short
            coalescer.request("api", [Path(f"s{index}.py")], loop.time())
            await asyncio.sleep(0.02 if index % 7 else 0.06)
        await coalescer.idle()
        return restarts

    restarts = asyncio.run(scenario())
    assert restarts[0] == ["a.py"]
    storm = restarts[1:]
    assert 1 <= len(storm) <= 3, storm
    assert sorted(n for batch in storm for n in batch) == sorted(f"s{i}.py" for i in range(60))  # none lost
