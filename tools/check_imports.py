#!/usr/bin/env python3
"""The house rules for imports among our own modules (src/adminpanel), checked by `make test`:

- no import cycle (modules importing each other, directly or round a loop);
- no import of our own modules inside a function or class body (it hides a cycle);
- no two packages (adminpanel.<package>) importing each other: a layer leaning on the one above;
- tests take helpers from helper modules, never from a conftest.py or another test module
  (tests/ beside SRC_DIR): a fixture file and a test file are not libraries.

    python3 tools/check_imports.py [SRC_DIR]      (default: src)
"""

import ast
import pathlib
import sys


def modules(root: pathlib.Path) -> dict[str, pathlib.Path]:
    found = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(mods: dict[str, pathlib.Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Each module's imports of our modules, and the ones made inside a body."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    local = []
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            targets = {n for n in names if n in mods} - {module}
            graph[module] |= targets
            if targets and node.col_offset > 0:
                local.append(f"{path}:{node.lineno} imports {', '.join(sorted(targets))}")
    return graph, local


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def two_way_packages(graph: dict[str, set[str]]) -> dict[tuple[str, str], list[str]]:
    """Pairs of packages whose modules import each other's, with an example each way."""

    def package(module: str) -> str | None:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 2 else None

    edges: dict[tuple[str, str], list[str]] = {}
    for a, targets in graph.items():
        for b in targets:
            pa, pb = package(a), package(b)
            if pa and pb and pa != pb:
                edges.setdefault((pa, pb), []).append(f"{a} -> {b}")
    return {
        (pa, pb): examples[:1] + edges[(pb, pa)][:1]
        for (pa, pb), examples in sorted(edges.items())
        if pa < pb and (pb, pa) in edges
    }


def test_helpers_from_tests(tests: pathlib.Path) -> list[str]:
    """Imports of a conftest.py or a test_*.py module, anywhere under tests/."""
    found = []
    for path in sorted(tests.rglob("*.py")) if tests.is_dir() else []:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.rsplit(".", 1)[-1]
                if last == "conftest" or last.startswith("test_"):
                    found.append(f"{path}:{node.lineno} imports from {node.module}")
    return found


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    graph, local = imports(modules(root))
    problems = [f"import cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    problems += [f"import inside a function: {line}" for line in local]
    pairs = two_way_packages(graph)
    problems += [
        f"packages importing each other: {a} <-> {b} (e.g. {'; '.join(examples)})"
        for (a, b), examples in pairs.items()
    ]
    problems += [
        f"a test helper outside a helper module: {line}"
        for line in test_helpers_from_tests(root.parent / "tests")
    ]
    for line in problems:
        print(line)
    print(f"imports: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
