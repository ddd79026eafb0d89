"""The folder tree shows the pipeline: `pipeline/` holds one sub-package per stage, in the order
of the README's diagram, and no module imports a later stage or closes an import loop (imports
inside functions included: a loop hidden in a function is still a loop)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
#: the stages in pipeline order; a module may import its own stage and earlier ones only
STAGES = ["core", "ingest", "passages", "corpus", "classify", "audit", "exchange", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The pipeline modules `name` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [origin] + [f"{origin}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def stage_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_lives_in_a_stage_package():
    loose = sorted(n for n in modules() if n.count(".") == 1 and stage_of(n) not in STAGES)
    assert not loose, f"modules outside the stage packages: {loose}"
    assert {stage_of(n) for n in modules() if stage_of(n)} == set(STAGES)


def test_no_stage_imports_a_later_stage():
    order = {s: i for i, s in enumerate(STAGES)}
    wrong = sorted(f"{a} → {b}" for a, deps in graph().items() for b in deps
                   if stage_of(a) in order and stage_of(b) in order and order[stage_of(b)] > order[stage_of(a)])
    assert not wrong, "\n".join(wrong)


def test_the_import_graph_has_no_loop():
    g = graph()
    # a package's __init__ importing its own modules is how a package re-exports; a module importing
    # from its package's __init__ would close a loop, and is counted
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g.get(node, ())):
            if state.get(nxt) == 1:
                loops.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(g):
        if start not in state:
            visit(start, [start])
    assert not loops, "\n".join(" → ".join(loop) for loop in loops)


def test_the_readme_layout_names_every_stage_and_module():
    """Each stage package as `name/` and each of its modules as `module.py` (the readers and backends
    sub-packages are named as folders: one module per format, one per backend)."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 4)]
    missing = [f"{s}/" for s in STAGES if f"{s}/" not in layout]
    for name, path in modules().items():
        parts = name.split(".")
        if len(parts) == 3 and path.name != "__init__.py" and f"{parts[2]}.py" not in layout:
            missing.append(f"{parts[1]}/{parts[2]}.py")
        if len(parts) == 3 and path.name == "__init__.py" and f"{parts[2]}/" not in layout:
            missing.append(f"{parts[1]}/{parts[2]}/")
    assert not missing, f"README layout does not name: {missing}"
