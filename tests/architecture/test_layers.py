"""The package's shape, held as tests: the layers and forbidden imports of pyproject.toml
(`lint-imports`), no import cycle, no dead code, function-level imports only where they buy
something, a `--help` that loads neither the age binding nor MkDocs, and no comment that cites
an issue number (the reason belongs in the comment, the history in git)."""
from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import grimp

from conftest import ROOT

PACKAGE = ROOT / "tools" / "complaints"
BIN = Path(sys.executable).parent
# Libraries slow to import or needed by a few commands only: loaded where used, so the commands
# that do not need them start fast (and `--help` loads neither pyrage nor mkdocs). `holidays`
# is needed only when a run meets a year the calendar does not confirm.
# (referencing is jsonschema's, loaded with it and only then.)
HEAVY_OPTIONAL = frozenset({"pyrage", "mkdocs", "highspy", "frictionless", "jieba", "holidays", "jsonschema", "referencing"})
# vulture's false positives at 80% confidence, each with its reason (tests/architecture/).
VULTURE_WHITELIST = Path(__file__).with_name("vulture_whitelist.py")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_import_contracts_hold() -> None:
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache", "--no-logo"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def import_cycles(graph: grimp.ImportGraph, names: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(names):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & names)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & names))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.find_modules_directly_imported_by(node):
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph, set(graph.modules)) == [["p.a", "p.b", "p.c"]]


def test_no_import_cycle_anywhere_in_the_package() -> None:
    # Function-level imports count too (grimp reads every import statement): a cycle deferred
    # to call time is still a cycle.
    graph = grimp.build_graph("complaints", cache_dir=None)
    cycles = import_cycles(graph, set(graph.find_descendants("complaints")) | {"complaints"})
    details = []
    for cycle in cycles:
        members = set(cycle)
        edges = sorted(f"{m} -> {i} (l.{','.join(str(d['line_number']) for d in graph.get_import_details(importer=m, imported=i))})"
                       for m in cycle for i in graph.find_modules_directly_imported_by(m) & members)
        details.append("\n  ".join(edges))
    assert cycles == [], "import cycles:\n  " + "\n\n  ".join(details)


def test_no_dead_code() -> None:
    whitelist = [str(VULTURE_WHITELIST)] if VULTURE_WHITELIST.exists() else []
    args = [sys.executable, "-m", "vulture", str(PACKAGE), *whitelist, "--min-confidence", "80"]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_help_loads_neither_the_age_binding_nor_mkdocs() -> None:
    script = (
        "import sys\n"
        "from complaints.cli import main\n"
        "sys.argv = ['complaints', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyrage', 'mkdocs'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def function_level_imports(path: Path) -> list[str]:
    """`module:line imported` for each import statement inside a function body."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    found += [f"{sub.lineno} {alias.name}" for alias in sub.names]
                elif isinstance(sub, ast.ImportFrom):
                    found.append(f"{sub.lineno} {'.' * sub.level}{sub.module or ''}")
    return sorted(set(found), key=lambda item: int(item.split()[0]))


def test_function_level_imports_only_in_the_cli_and_for_heavy_optional_libraries() -> None:
    offenders = {}
    for path in modules():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("cli/"):
            continue
        hits = [hit for hit in function_level_imports(path) if hit.split()[1].split(".")[0] not in HEAVY_OPTIONAL]
        if hits:
            offenders[relative] = hits
    assert offenders == {}, "\n".join(f"{name}: {', '.join(hits)}" for name, hits in offenders.items())


ISSUE = re.compile(r"\bissues?\s*#?\s*\d+", re.I)


def issue_citations(text: str) -> list[str]:
    """Comments and docstrings that cite an issue by number."""
    found = [f"{token.start[0]}: {token.string.strip()}" for token in tokenize.generate_tokens(io.StringIO(text).readline)
             if token.type == tokenize.COMMENT and ISSUE.search(token.string)]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and ISSUE.search(doc):
                found.append(f"{node.body[0].lineno}: docstring cites {ISSUE.search(doc).group(0)!r}")  # type: ignore[union-attr]
    return found


def test_the_citation_check_finds_one() -> None:
    assert issue_citations('x = 1  # see issue 17\n"""Module."""\n') == ["1: # see issue 17"]
    assert issue_citations('def f():\n    """Fixed in issue #4."""\n') == ["2: docstring cites 'issue #4'"]
    assert issue_citations('# the issue form\nmessage = "issue 5"\n') == []


def test_no_comment_cites_an_issue_number() -> None:
    offenders = {path.relative_to(PACKAGE).as_posix(): hits for path in modules()
                 if (hits := issue_citations(path.read_text(encoding="utf-8")))}
    assert offenders == {}, "\n".join(f"{name}:{hit}" for name, hits in offenders.items() for hit in hits)


def test_the_readme_names_every_module_once() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## How the code is laid out"):]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    named = re.findall(r"^- `([\w/]+\.py)`: ", section, re.M)
    actual = sorted(path.relative_to(PACKAGE).as_posix() for path in modules() if path.name != "__init__.py")
    assert sorted(named) == actual
    assert len(named) == len(set(named))


def test_every_path_the_readme_names_exists() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:tools|tests|schema|benchmarks)/[\w./*-]+)`", text))
    missing = sorted(path for path in named if not any(ROOT.glob(path)))
    assert missing == []
