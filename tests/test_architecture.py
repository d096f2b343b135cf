"""The layout rules of issue 14, checked on the source with ``ast`` (nothing is imported).

- no import cycle between the package's modules, function-level imports included
  (``if TYPE_CHECKING:`` imports excluded);
- no import of another module's private name (``from .x import _name``, ``x._name``,
  ``getattr(x, "_name")``; dunder names such as ``__version__`` are public);
- no file over :data:`MAX_LINES` lines, except at most :data:`MAX_EXCEPTIONS` files listed in
  :data:`LONG_FILE_EXCEPTIONS` (one-line reason each), none over :data:`HARD_MAX_LINES`;
- no root attribute of the package (``__all__``, the lazy map ``_LAZY``, names bound in
  ``__init__.py``) named like a submodule: importing the submodule would replace it.

How imports are read (the rules the self-tests at the end pin):

- an edge goes to the module an import names: ``from .x import y`` -> ``x`` (``x.y`` when ``y``
  is a submodule), ``from . import y`` -> the submodule ``y``, or the package's ``__init__``
  when ``y`` is a name defined there; ``import a.b.c`` -> ``a.b.c``. The parent packages that
  Python runs first are not edges, so a package's ``__init__`` importing its submodules is
  not a cycle by itself, while a submodule importing a name from its ``__init__`` that imports
  it back is;
- ``importlib.import_module("<literal>", ...)`` and a package ``__init__``'s lazy map
  ``_LAZY = {"name": "submodule", ...}`` (PEP 562 ``__getattr__``) count as function-level
  imports.

Each check lists every violation in its failure message; the self-tests on synthetic packages
prove the checker itself finds what it should (before issue 14's restructuring the real package
had 15 cycles, 9 private imports and 13 files over the limit).
"""

from __future__ import annotations

import ast
import textwrap
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "lesiontrack"

MAX_LINES = 500
HARD_MAX_LINES = 800
MAX_EXCEPTIONS = 3
#: Files allowed over MAX_LINES (path relative to the repository -> one-line reason: the single
#: concern it holds). At most MAX_EXCEPTIONS, none over HARD_MAX_LINES; an entry no longer
#: needed fails too.
LONG_FILE_EXCEPTIONS: dict[str, str] = {
    "lesiontrack/io/bam.py": "one concern: allele counts from reads (pileup, mates, base and "
                             "mapping quality, clipping, the batched site walk)",
}


# ----------------------------------------------------------------------------------------------
# the checker
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Module:
    name: str  # dotted: pkg.sub.mod (a package: its own name)
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # path:line
    function_level: bool
    type_checking: bool


@dataclass(repr=False)
class Package:
    """Every module of the package in ``directory`` and what they import (read with ast)."""

    directory: Path
    modules: dict[str, Module] = field(default_factory=dict)
    trees: dict[str, ast.Module] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    private: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.directory.name
        self.root = self.directory.parent
        for path in sorted(self.directory.rglob("*.py")):
            parts = list(path.relative_to(self.root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            module = Module(".".join(parts), path, is_package)
            self.modules[module.name] = module
            self.trees[module.name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name, tree in self.trees.items():
            _Imports(self, self.modules[name]).run(tree)

    def __repr__(self) -> str:
        return f"Package({self.directory})"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def inside(self, name: str) -> bool:
        return name == self.name or name.startswith(self.name + ".")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class _Imports(ast.NodeVisitor):
    """Imports, module bindings and private-name uses of one module."""

    def __init__(self, package: Package, module: Module) -> None:
        self.package = package
        self.module = module
        self.depth = 0  # > 0 inside a function
        self.type_checking = False
        self.bindings: dict[str, str] = {}  # local name -> package module it is bound to
        self.chains: list[tuple[list[str], int]] = []  # attribute chains on a Name
        self.getattrs: list[tuple[str, str, int]] = []  # getattr(name, "literal")

    # -- walking ---------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self.visit(tree)
        if self.module.is_package:
            self._lazy_map(tree)
        for parts, line in self.chains:
            self._check_chain(parts, line)
        for name, attr, line in self.getattrs:
            self._check_chain([name, attr], line)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        outer, self.type_checking = self.type_checking, True
        for statement in node.body:
            self.visit(statement)
        self.type_checking = outer
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self.package.inside(alias.name):
                continue
            target = alias.name  # `import a.b.c`: a.b.c is a module
            self._edge(target, node.lineno)
            if alias.name.startswith(self.package.name + "."):
                self._private_module(alias.name, node.lineno, f"import {alias.name}")
            if alias.asname:
                self.bindings[alias.asname] = target
            else:
                self.bindings[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._resolve(node.level, node.module)
        if base is None or not self.package.inside(base):
            return
        shown = "." * node.level + (node.module or "")
        if node.module:
            self._private_module(base, node.lineno, f"from {shown} import ...")
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in self.package.modules:
                self._edge(submodule, node.lineno)
                self.bindings[alias.asname or alias.name] = submodule
                self._private_module(submodule, node.lineno, f"from {shown} import {alias.name}")
                continue
            self._edge(base, node.lineno)
            if _private(alias.name) and base != self.module.name:
                self._violation(node.lineno, f"from {shown} import {alias.name}: private name "
                                             f"of {base}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts, current = [], node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name):
            parts.append(current.id)
            self.chains.append((parts[::-1], node.lineno))
        else:
            self.visit(current)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (name == "getattr" and len(node.args) >= 2 and isinstance(node.args[0], ast.Name)
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            self.getattrs.append((node.args[0].id, node.args[1].value, node.lineno))
        if (name == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            text = node.args[0].value
            level = len(text) - len(text.lstrip("."))
            target = self._resolve(level, text[level:] or None) if level else text
            if target is not None and self.package.inside(target):
                self._edge(target, node.lineno, function_level=True)
        self.generic_visit(node)

    # -- helpers -----------------------------------------------------------------------------

    def _resolve(self, level: int, name: str | None) -> str | None:
        if level == 0:
            return name
        parts = self.module.package.split(".")
        if level - 1 >= len(parts):
            return None
        parts = parts[:len(parts) - (level - 1)]
        return ".".join(parts + ([name] if name else []))

    def _where(self, line: int) -> str:
        return f"{self.package.relative(self.module.path)}:{line}"

    def _edge(self, target: str, line: int, function_level: bool | None = None) -> None:
        self.package.edges.append(Edge(
            self.module.name, target, self._where(line),
            self.depth > 0 if function_level is None else function_level, self.type_checking))

    def _violation(self, line: int, text: str) -> None:
        self.package.private.append(f"{self._where(line)}: {text}")

    def _private_module(self, target: str, line: int, shown: str) -> None:
        """A private module (``_impl.py``) is for its own package: its siblings may import it."""
        parent, _, last = target.rpartition(".")
        own = self.module.name == target or self.module.name.startswith(target + ".")
        if _private(last) and not (self.module.package == parent or own):
            self._violation(line, f"{shown}: private module {target} imported from outside "
                                  f"its package")

    def _check_chain(self, parts: list[str], line: int) -> None:
        """``x.sub._name`` where ``x`` is bound to a package module: the first attribute that
        is not a submodule must not be private (unless it is this module's own)."""
        module = self.bindings.get(parts[0])
        if module is None:
            return
        for attr in parts[1:]:
            if f"{module}.{attr}" in self.package.modules:
                module = f"{module}.{attr}"
                continue
            if _private(attr) and module != self.module.name:
                self._violation(line, f"{'.'.join(parts[:parts.index(attr) + 1])}: private "
                                      f"name of {module}")
            return

    def _lazy_map(self, tree: ast.Module) -> None:
        """``_LAZY = {"name": "submodule"}`` of a package: imports made on first use."""
        for node in tree.body:
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY"
                                                     for t in node.targets)
                    and isinstance(node.value, ast.Dict)):
                for value in node.value.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        target = f"{self.module.name}.{value.value.lstrip('.')}"
                        self._edge(target, value.lineno, function_level=True)


def find_cycles(package: Package) -> list[str]:
    """Every import cycle (type-checking imports left out), each as ``a -> b -> a`` followed by
    the line of each import; one shortest cycle per import inside a strongly connected set."""
    graph: dict[str, dict[str, Edge]] = {name: {} for name in package.modules}
    for edge in package.edges:
        if edge.type_checking or edge.target not in graph:
            continue
        graph[edge.source].setdefault(edge.target, edge)
    cycles: dict[tuple[str, ...], list[str]] = {}
    for component in _strongly_connected(graph):
        for source in sorted(component):
            for target in sorted(graph[source]):
                if target not in component:
                    continue
                path = _shortest_path(graph, target, source, component)
                cycle = [source, *path[:-1]]
                start = cycle.index(min(cycle))
                cycle = cycle[start:] + cycle[:start]
                cycles.setdefault(tuple(cycle), cycle)
    out = []
    for cycle in sorted(cycles):
        steps = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
        lines = [" -> ".join([*cycle, cycle[0]])]
        for a, b in steps:
            edge = graph[a][b]
            level = " (in a function)" if edge.function_level else ""
            lines.append(f"    {edge.where}: {a} imports {b}{level}")
        out.append("\n".join(lines))
    return out


def _strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[set[str]]:
    """Tarjan's strongly connected sets that hold a cycle (more than one module, or a self
    import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                out.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def _shortest_path(graph: dict[str, dict[str, Edge]], start: str, end: str,
                   within: set[str]) -> list[str]:
    """Modules from ``start`` to ``end`` (both included), by breadth-first search."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == end:
            break
        for target in sorted(graph[node]):
            if target in within and target not in previous:
                previous[target] = node
                queue.append(target)
    path = [end]
    while previous[path[-1]] is not None:
        path.append(previous[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


def private_imports(package: Package) -> list[str]:
    """Every use of another module's private name, as ``path:line: what``."""
    return sorted(set(package.private), key=_natural_where)


def _natural_where(text: str) -> tuple[str, int, str]:
    path, line, rest = text.split(":", 2)
    return path, int(line), rest


def long_files(package: Package, exceptions: dict[str, str], max_lines: int = MAX_LINES,
               hard_max: int = HARD_MAX_LINES, max_exceptions: int = MAX_EXCEPTIONS) -> list[str]:
    """Files over ``max_lines`` lines that are not exceptions, and whatever is wrong with the
    list of exceptions (too many, a reason missing or longer than a line, a file over
    ``hard_max``, an entry no longer needed)."""
    out = []
    if len(exceptions) > max_exceptions:
        out.append(f"{len(exceptions)} files are listed as exceptions; at most {max_exceptions}")
    lengths = {package.relative(m.path): len(m.path.read_text(encoding="utf-8").splitlines())
               for m in package.modules.values()}
    for path, reason in sorted(exceptions.items()):
        if not reason.strip() or "\n" in reason.strip():
            out.append(f"{path}: an exception needs a one-line reason")
        if path not in lengths:
            out.append(f"{path}: listed as an exception but there is no such file")
        elif lengths[path] <= max_lines:
            out.append(f"{path}: listed as an exception but has {lengths[path]} lines "
                       f"(<= {max_lines}): remove it from the list")
    for path, count in sorted(lengths.items()):
        if path in exceptions:
            if count > hard_max:
                out.append(f"{path}: {count} lines (an exception may have up to {hard_max})")
        elif count > max_lines:
            out.append(f"{path}: {count} lines (limit {max_lines})")
    return out


def _literal_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys if isinstance(k, ast.Constant)]
    return []


def root_names(package: Package) -> dict[str, str]:
    """Attributes of the package's root: name -> where it comes from (``__all__``, ``_LAZY``,
    or a name bound in ``__init__.py``); a name ``from . import name`` binds to the submodule
    itself is left out (the attribute is the submodule)."""
    tree = package.trees[package.name]
    names: dict[str, str] = {}
    itself = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
              and node.level == 1 and node.module is None
              for alias in node.names if alias.asname is None}  # `from . import sub`

    def bind(name: str, origin: str) -> None:
        if not (name.startswith("__") and name.endswith("__")):
            names.setdefault(name, origin)

    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__all__" and node.value:
                for name in _literal_names(node.value):
                    bind(name, "__all__")
            elif isinstance(target, ast.Name) and target.id == "_LAZY" and node.value:
                for name in _literal_names(node.value):
                    bind(name, "_LAZY")
            elif isinstance(target, ast.Name) and not _private(target.id):
                bind(target.id, "assigned in __init__.py")
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and not node.name.startswith("_")):
            bind(node.name, "defined in __init__.py")
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                if f"{package.name}.{node.module}.{alias.name}" not in package.modules:
                    bind(alias.asname or alias.name, f"imported in __init__.py from .{node.module}")
    return {name: origin for name, origin in names.items() if name not in itself}


def submodule_names(package: Package, extra: tuple[str, ...] = ()) -> set[str]:
    """Names of the root's direct submodules and subpackages (``extra``: installed ones that do
    not live in the folder, such as ``lesiontrack.demo``)."""
    names = {m.name.split(".")[1] for m in package.modules.values() if m.name.count(".") >= 1}
    return names | set(extra)


def root_name_clashes(package: Package, extra: tuple[str, ...] = ()) -> list[str]:
    """Root attributes named like a submodule."""
    submodules = submodule_names(package, extra)
    return [f"{package.name}.{name} ({origin}) has the name of the submodule "
            f"{package.name}.{name}: importing the submodule replaces the attribute"
            for name, origin in sorted(root_names(package).items()) if name in submodules]


def installed_subpackages() -> tuple[str, ...]:
    """``lesiontrack.X`` packages that pyproject.toml installs from elsewhere (the demo)."""
    with open(REPO / "pyproject.toml", "rb") as handle:
        packages = tomllib.load(handle).get("tool", {}).get("setuptools", {}).get("packages", [])
    return tuple(p.split(".")[1] for p in packages if p.count(".") == 1)


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n" + "\n".join(violations)


# ----------------------------------------------------------------------------------------------
# the rules, on the real package
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def package() -> Package:
    return Package(PACKAGE_DIR)


def test_the_walk_sees_the_package(package):
    assert package.name == "lesiontrack" and "lesiontrack" in package.modules
    assert len(package.modules) >= 10
    assert any(m.is_package for name, m in package.modules.items() if name != "lesiontrack")
    assert package.edges, "no import between the package's modules was found"


def test_no_import_cycle(package):
    cycles = find_cycles(package)
    assert not cycles, _report("import cycles between lesiontrack modules", cycles)


def test_no_private_name_imported_from_another_module(package):
    found = private_imports(package)
    assert not found, _report("private names used outside their module", found)


def test_no_file_over_the_line_limit(package):
    found = long_files(package, LONG_FILE_EXCEPTIONS)
    assert not found, _report(f"files over {MAX_LINES} lines (or a wrong exception list)", found)


def test_no_root_attribute_named_like_a_submodule(package):
    found = root_name_clashes(package, installed_subpackages())
    assert not found, _report("root attributes named like a submodule", found)


# ----------------------------------------------------------------------------------------------
# self-tests of the checker on synthetic packages
# ----------------------------------------------------------------------------------------------

def make_package(tmp_path: Path, files: dict[str, str], name: str = "fakepkg") -> Package:
    """A package ``name`` in ``tmp_path`` made of ``files`` (path inside it -> source); every
    folder gets an empty ``__init__.py`` unless given."""
    root = tmp_path / name
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        if not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("", encoding="utf-8")
    return Package(root)


def first_lines(cycles: list[str]) -> list[str]:
    return [c.splitlines()[0] for c in cycles]


def test_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    package = make_package(tmp_path, {
        "a.py": """
            def f():
                from . import b
                return b.g()
            """,
        "b.py": "from .a import f\n\ndef g():\n    return 1\n",
    })
    cycles = find_cycles(package)
    assert first_lines(cycles) == ["fakepkg.a -> fakepkg.b -> fakepkg.a"]
    assert "fakepkg/a.py:3: fakepkg.a imports fakepkg.b (in a function)" in cycles[0]
    assert "fakepkg/b.py:1: fakepkg.b imports fakepkg.a\n" in cycles[0] + "\n"


def test_checker_reports_a_longer_cycle_in_order(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "from .b import x\n",
        "b.py": "import fakepkg.c\nx = 1\n",
        "c.py": "def f():\n    import fakepkg.a as a\n    return a\n",
        "d.py": "from .a import x\n",  # imports into the cycle, is not part of it
    })
    assert first_lines(find_cycles(package)) == ["fakepkg.a -> fakepkg.b -> fakepkg.c -> fakepkg.a"]


def test_checker_lists_every_cycle(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "from . import b\n",
        "b.py": "from . import a\n",
        "c.py": "from .d import x\n",
        "d.py": "from .c import y\nx = 1\n",
        "e.py": "from . import e\n",  # a module importing itself
    })
    assert first_lines(find_cycles(package)) == [
        "fakepkg.a -> fakepkg.b -> fakepkg.a",
        "fakepkg.c -> fakepkg.d -> fakepkg.c",
        "fakepkg.e -> fakepkg.e",
    ]


def test_checker_init_importing_its_submodules_is_not_a_cycle(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": "from .a import f\nfrom . import b\nVERSION = '1'\n",
        "a.py": "from . import b\nfrom .b import g as f\n",  # a sibling, not the __init__
        "b.py": "def g():\n    return 1\n",
        "sub/__init__.py": "from .c import h\n",
        "sub/c.py": "from ..b import g as h\n",
    })
    assert find_cycles(package) == []


def test_checker_submodule_importing_its_init_back_is_a_cycle(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": "from .a import f\nVERSION = '1'\n",
        "a.py": "from . import VERSION\n\ndef f():\n    return VERSION\n",
    })
    assert first_lines(find_cycles(package)) == ["fakepkg -> fakepkg.a -> fakepkg"]


def test_checker_counts_lazy_imports_of_an_init(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": """
            import importlib
            VERSION = "1"
            _LAZY = {"f": "a"}

            def __getattr__(name):
                return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
            """,
        "a.py": "from . import VERSION\nf = 1\n",
        "sub/__init__.py": """
            import importlib

            def __getattr__(name):
                return getattr(importlib.import_module(".b", __name__), name)
            """,
        "sub/b.py": "from fakepkg.sub import __doc__ as d\n",
        "g.py": "import importlib\n\n\ndef f():\n    return importlib.import_module('fakepkg.h')\n",
        "h.py": "from .g import f\n",
    })
    assert first_lines(find_cycles(package)) == [
        "fakepkg -> fakepkg.a -> fakepkg",
        "fakepkg.g -> fakepkg.h -> fakepkg.g",
        "fakepkg.sub -> fakepkg.sub.b -> fakepkg.sub",
    ]


def test_checker_leaves_type_checking_imports_out_of_cycles(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "from .b import x\n",
        "b.py": """
            import typing
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .a import y
            if typing.TYPE_CHECKING:
                import fakepkg.a
            x = 1
            """,
        "c.py": "from .d import x\n",
        "d.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                pass
            else:
                from .c import y
            x = 1
            """,
    })
    assert first_lines(find_cycles(package)) == ["fakepkg.c -> fakepkg.d -> fakepkg.c"]


def test_checker_resolves_relative_and_absolute_imports(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "from .sub.deep import leaf\n",
        "sub/deep/leaf.py": "def f():\n    from ...a import leaf\n",
        "b.py": "from fakepkg.sub import c\n",
        "sub/c.py": "def f():\n    from .. import b\n",
        "e.py": "import fakepkg.sub.f as f\n",
        "sub/f.py": "class K:\n    from ..e import x\n",  # class-level import
    })
    assert first_lines(find_cycles(package)) == [
        "fakepkg.a -> fakepkg.sub.deep.leaf -> fakepkg.a",
        "fakepkg.b -> fakepkg.sub.c -> fakepkg.b",
        "fakepkg.e -> fakepkg.sub.f -> fakepkg.e",
    ]


def test_checker_finds_private_names(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": "__version__ = '1'\n_internal = 2\n\n\ndef f():\n"
                       "    from . import _internal\n    return _internal\n",
        "a.py": "import fakepkg.a as this\n_hidden = 1\npublic = 2\n_own = this._hidden\n",
        "b.py": """
            from .a import _hidden, public
            from . import __version__
            from .a import __doc__
            """,
        "c.py": """
            import os
            import fakepkg.a
            import fakepkg.a as alias
            from . import a
            from .sub import d


            def f():
                return (alias._hidden, a._hidden, fakepkg.a._hidden, a.public, a.__name__,
                        getattr(a, "_hidden"), os._exit, fakepkg.sub.d._x, d.public, d._x.y)
            """,
        "sub/d.py": "_x = 1\npublic = _x\n",
        "sub/_impl.py": "x = 1\n",
        "sub/e.py": "from . import _impl\nfrom ._impl import x\n",  # its own package: fine
        "f.py": "from .sub import _impl\nfrom .sub._impl import x\n",
    })
    assert private_imports(package) == [
        "fakepkg/b.py:2: from .a import _hidden: private name of fakepkg.a",
        "fakepkg/c.py:10: a._hidden: private name of fakepkg.a",
        "fakepkg/c.py:10: alias._hidden: private name of fakepkg.a",
        "fakepkg/c.py:10: fakepkg.a._hidden: private name of fakepkg.a",
        "fakepkg/c.py:11: a._hidden: private name of fakepkg.a",
        "fakepkg/c.py:11: d._x: private name of fakepkg.sub.d",
        "fakepkg/c.py:11: fakepkg.sub.d._x: private name of fakepkg.sub.d",
        "fakepkg/f.py:1: from .sub import _impl: private module fakepkg.sub._impl imported "
        "from outside its package",
        "fakepkg/f.py:2: from .sub._impl import ...: private module fakepkg.sub._impl imported "
        "from outside its package",
    ]


def test_checker_finds_long_files(tmp_path):
    package = make_package(tmp_path, {
        "ok.py": "x = 1\n" * 500,
        "long.py": "x = 1\n" * 501,
        "allowed.py": "x = 1\n" * 800,
        "too_long.py": "x = 1\n" * 801,
        "short.py": "x = 1\n",
    })
    assert long_files(package, {}) == [
        "fakepkg/allowed.py: 800 lines (limit 500)",
        "fakepkg/long.py: 501 lines (limit 500)",
        "fakepkg/too_long.py: 801 lines (limit 500)",
    ]
    assert long_files(package, {"fakepkg/allowed.py": "one concern",
                                "fakepkg/long.py": "one concern"}) == [
        "fakepkg/too_long.py: 801 lines (limit 500)",
    ]
    assert long_files(package, {"fakepkg/too_long.py": "one concern"}) == [
        "fakepkg/allowed.py: 800 lines (limit 500)",
        "fakepkg/long.py: 501 lines (limit 500)",
        "fakepkg/too_long.py: 801 lines (an exception may have up to 800)",
    ]


def test_checker_checks_the_exception_list(tmp_path):
    package = make_package(tmp_path, {f"m{i}.py": "x = 1\n" * 501 for i in range(4)}
                           | {"short.py": "x = 1\n" * 500})
    everything = {f"fakepkg/m{i}.py": "one concern" for i in range(4)}
    assert long_files(package, everything) == [
        "4 files are listed as exceptions; at most 3"]
    three = {f"fakepkg/m{i}.py": "one concern" for i in range(3)}
    assert long_files(package, three) == ["fakepkg/m3.py: 501 lines (limit 500)"]
    assert long_files(package, {"fakepkg/m0.py": "", "fakepkg/m1.py": "two\nlines",
                                "fakepkg/short.py": "was long", "fakepkg/gone.py": "moved"}) == [
        "4 files are listed as exceptions; at most 3",
        "fakepkg/gone.py: listed as an exception but there is no such file",
        "fakepkg/m0.py: an exception needs a one-line reason",
        "fakepkg/m1.py: an exception needs a one-line reason",
        "fakepkg/short.py: listed as an exception but has 500 lines (<= 500): remove it from "
        "the list",
        "fakepkg/m2.py: 501 lines (limit 500)",
        "fakepkg/m3.py: 501 lines (limit 500)",
    ]


def test_checker_finds_root_names_of_submodules(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": """
            from .errors import Error
            from . import annotate as annotate_module
            from .stats import stats as survival
            __all__ = ["annotate", "Error", "read"]
            _LAZY = {"io": "reader", "read": "reader"}

            def stats():
                pass
            """,
        "annotate.py": "",
        "errors.py": "class Error(Exception):\n    pass\n",
        "reader.py": "",
        "stats.py": "",
        "io/__init__.py": "",
        "io/vcf.py": "vcf = 1\n",  # a subpackage's own names are not the root's
    })
    assert root_name_clashes(package, ("demo",)) == [
        "fakepkg.annotate (__all__) has the name of the submodule fakepkg.annotate: importing "
        "the submodule replaces the attribute",
        "fakepkg.io (_LAZY) has the name of the submodule fakepkg.io: importing the submodule "
        "replaces the attribute",
        "fakepkg.stats (defined in __init__.py) has the name of the submodule fakepkg.stats: "
        "importing the submodule replaces the attribute",
    ]
    clean = make_package(tmp_path / "clean", {
        "__init__.py": "from . import annotate\n__all__ = ['annotate_calls', 'annotate']\n"
                       "_LAZY = {'annotate_calls': 'annotate'}\n",
        "annotate.py": "def annotate_calls():\n    pass\n",
    })
    # `annotate` in __all__ is the submodule itself (bound by `from . import annotate`); the
    # function has another name
    assert root_name_clashes(clean) == []
    assert "demo" in installed_subpackages()
