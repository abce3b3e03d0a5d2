"""The package layout's rules, read from the imports: stages import only downwards, no circles, modules stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "coach"

# Floors from the bottom up: a module may import its own floor's modules and those below it, never above.
# speech and audio share a floor and neither imports the other; the front ends share one (see the test below).
FLOORS = [
    {"coach", "coach.errors", "coach.clock", "coach.interrupts", "coach.processes", "coach.staging", "coach.extensions", "coach.figure"},
    {"coach.routine"},
    {"coach.timeline"},
    {"coach.speech", "coach.audio"},
    {"coach.output"},
    {"coach.session", "coach.streaming", "coach.history", "coach.watch", "coach.site"},
    {"coach.cli", "coach.terminal", "coach.serve", "coach.publish"},
    {"coach.launch", "coach.__main__"},
]
FRONT_ENDS = {"coach.cli", "coach.terminal", "coach.serve", "coach.publish"}
UI_LIBRARIES = {"typer", "click", "starlette", "uvicorn", "watchfiles", "segno"}
AUDIO_LIBRARIES = {"miniaudio", "lameenc", "pydub", "pyttsx3", "espeakng_loader", "piper", "scipy", "numpy"}
# How the CLI starts each other front end: through these modules only.
FRONT_END_ENTRIES = {"coach.terminal.play", "coach.serve.server", "coach.serve.options", "coach.publish.site"}
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 275  # about 250: the player's one class, 266 lines, is one state machine
LONG_REASON = re.compile(r"^Long because ", re.M)  # a module over the limit says why at its top


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, package_root: Path = ROOT) -> set[str]:
    """Every module `path` imports, at any depth of its code (a lazy import still ties two modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            for alias in node.names:  # `from coach.routine import loader` imports coach.routine.loader
                candidate = f"{node.module}.{alias.name}"
                if (package_root / (candidate.replace(".", "/") + ".py")).exists():
                    found.add(candidate)
    return found


def core_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def unit_of(module: str) -> str:
    """The floor unit a module belongs to: its stage or front-end package, else itself."""
    parts = module.split(".")
    if len(parts) >= 2 and f"coach.{parts[1]}" in set().union(*FLOORS):
        return f"coach.{parts[1]}"
    return module


def floor_of(module: str) -> int:
    unit = unit_of(module)
    for index, floor in enumerate(FLOORS):
        if unit in floor:
            return index
    raise AssertionError(f"{module} is on no floor: add it to FLOORS in tests/test_layout.py")


MODULES = core_modules()
GRAPH = {name: {i for i in imports_of(path) if i.startswith("coach") and i != name} for name, path in MODULES.items()}


def test_every_module_is_on_a_floor():
    for name in MODULES:
        floor_of(name)


def test_stages_import_only_downwards():
    upward = []
    for name, imported in GRAPH.items():
        for target in imported:
            if target not in MODULES:
                continue
            peers = floor_of(target) == floor_of(name) and unit_of(target) != unit_of(name)
            if floor_of(target) > floor_of(name) or (peers and floor_of(name) == floor_of("coach.speech")):
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_the_core_imports_no_front_end_and_no_ui_library():
    core = [name for name in MODULES if floor_of(name) < floor_of("coach.cli")]
    found = []
    for name in core:
        for target in imports_of(MODULES[name]):
            if unit_of(target) in FRONT_ENDS or target.split(".")[0] in UI_LIBRARIES:
                found.append(f"{name} -> {target}")
    assert found == []


def test_pure_stages_import_no_audio_library():
    pure = [name for name in MODULES if unit_of(name) in ("coach.routine", "coach.timeline")]
    found = [
        f"{name} -> {target}"
        for name in pure
        for target in imports_of(MODULES[name])
        if target.split(".")[0] in AUDIO_LIBRARIES | UI_LIBRARIES
    ]
    assert found == []


def test_front_ends_do_not_import_each_other():
    found = []
    for name, imported in GRAPH.items():
        if unit_of(name) not in FRONT_ENDS:
            continue
        for target in imported:
            other = unit_of(target)
            if other in FRONT_ENDS and other != unit_of(name):
                if unit_of(name) == "coach.cli" and target in FRONT_END_ENTRIES:
                    continue
                found.append(f"{name} -> {target}")
    assert found == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of a graph (each strongly connected component of more than one module, or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))}


def test_no_import_circle_in_the_package():
    # A package's __init__ is imported with any of its modules: that is Python's order, not a circle.
    graph = {name: {t for t in targets if t not in _package_parents(name)} for name, targets in GRAPH.items()}
    assert _cycles(graph) == []


def test_no_import_circle_in_the_benchmarks():
    bench = ROOT / "bench"
    names = {path.stem: path for path in bench.glob("*.py")}
    graph = {}
    for stem, path in names.items():
        targets = set()
        for imported in imports_of(path):
            short = imported.removeprefix("bench.")
            if short in names:
                targets.add(short)
        graph[stem] = targets
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_classes_stay_small(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.count("\n")
    if lines > MAX_MODULE_LINES:
        docstring = ast.get_docstring(tree) or ""
        assert LONG_REASON.search(docstring), f"{name}: {lines} lines and no 'Long because ...' line in its docstring"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            assert size <= MAX_CLASS_LINES, f"{name}.{node.name}: {size} lines"
