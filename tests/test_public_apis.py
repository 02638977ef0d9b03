"""Our code uses the public API of its dependencies only (issue: "The house rebuilt … on
public APIs only"): a private name of a library may change or vanish in any release, and
then breaks us in production rather than in a changelog we read.

Every .py file under bot/, handlers/ and scheduler/ is read as an AST (never imported) and
fails the test if it
- imports a private module or name of a third-party package (`import x._y`,
  `from x._y import z`, `from x import _y`);
- reads or writes `something._name` (one leading underscore) where `_name` is defined
  nowhere in our own code (defs, class attributes, `self._x = …`, `__slots__`), i.e. where
  it can only be another library's private attribute.

Names with a documented meaning despite the underscore are not private: dunders, sunders
(`_missing_`), and the `_asdict`-style names of named tuples and SQLAlchemy rows.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("bot", "handlers", "scheduler")
FIRST_PARTY = frozenset({*CHECKED, "tests"})
# Public by documentation although spelled with an underscore: namedtuple's API, which
# SQLAlchemy's Row follows (Row._mapping, Row._asdict, Row._fields, Row._t).
DOCUMENTED = frozenset(
    {"_asdict", "_replace", "_fields", "_field_defaults", "_make", "_mapping", "_t", "_tuple"}
)
# (file, ".name") pairs allowed on purpose, with a reason each: none today.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def _is_private(name: str) -> bool:
    if name.startswith("__") and name.endswith("__"):
        return False  # dunder: the language's protocols
    if len(name) > 2 and name.startswith("_") and name.endswith("_"):
        return False  # sunder: documented hooks such as Enum._missing_
    return name.startswith("_") and name not in DOCUMENTED


def _is_third_party(module: str) -> bool:
    top = module.split(".", 1)[0]
    return top not in FIRST_PARTY and top not in sys.stdlib_module_names


@dataclass(frozen=True)
class OwnNames:
    """The `_names` our own code defines, by where they can be reached from."""

    members: frozenset[str]  # of our classes and objects: methods, class attributes, self._x
    globals: frozenset[str]  # of our modules: top-level defs, classes and assignments


def own_private_names(trees: list[ast.Module]) -> OwnNames:
    members: set[str] = set()
    module_level: set[str] = set()
    for tree in trees:
        for statement in tree.body:
            module_level.update(_defined_names(statement))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    members.update(_defined_names(statement))
                    if _is_slots(statement):
                        members.update(_slot_names(statement))
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                members.add(node.attr)
    return OwnNames(
        frozenset(n for n in members if _is_private(n)),
        frozenset(n for n in module_level if _is_private(n)),
    )


def _defined_names(statement: ast.stmt) -> Iterator[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield statement.name
    yield from _assigned_names(statement)


def _assigned_names(statement: ast.stmt) -> Iterator[str]:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                yield node.id


def _is_slots(statement: ast.stmt) -> bool:
    return "__slots__" in set(_assigned_names(statement))


def _slot_names(statement: ast.stmt) -> Iterator[str]:
    value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
    if value is not None:
        for node in ast.walk(value):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def _own_modules(tree: ast.Module) -> set[str]:
    """Local names bound to our own modules (or their members) by this file's imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _is_third_party(alias.name):
                    names.add(alias.asname or alias.name.split(".", 1)[0])
        elif isinstance(node, ast.ImportFrom) and (
            node.level or not _is_third_party(node.module or "")
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(tree: ast.Module, own: OwnNames) -> Iterator[tuple[int, str]]:
    """(line, what) for each private import or attribute of a library in one file."""
    ours = _own_modules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_third_party(alias.name) and any(
                    _is_private(part) for part in alias.name.split(".")
                ):
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _is_third_party(node.module):
                continue
            if any(_is_private(part) for part in node.module.split(".")):
                yield node.lineno, f"from {node.module} import …"
            for alias in node.names:
                if _is_private(alias.name):
                    yield node.lineno, f"from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            if node.attr in own.members:
                continue
            if node.attr in own.globals and _root(node.value) in ours:
                continue  # a helper of one of our modules, reached through its import
            yield node.lineno, f".{node.attr}"


def violations(sources: dict[str, str]) -> list[str]:
    """`path:line: what` for every private use in these sources (relative path → code)."""
    trees = {path: ast.parse(code, filename=path) for path, code in sources.items()}
    own = own_private_names(list(trees.values()))
    return [
        f"{path}:{line}: {what}"
        for path, tree in trees.items()
        for line, what in sorted(private_uses(tree, own))
        if (path, what) not in ALLOWED
    ]


def test_no_private_api_of_any_dependency() -> None:
    sources = {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for top in CHECKED
        for path in sorted((ROOT / top).rglob("*.py"))
    }
    assert len(sources) > 50  # the walk found the code
    found = violations(sources)
    assert not found, "private API of a dependency:\n" + "\n".join(found)


def test_the_check_tells_private_from_public_uses() -> None:
    code = """
import _thread
import telegram._utils.types
from telegram._utils.defaultvalue import DefaultValue
from telegram import _bot, Bot
from bot.engine import _helpers
from . import _sibling
import scheduler.pacing as pacing


class Ours:
    _LIMIT = 3
    __slots__ = ("_slot",)

    def _method(self) -> None:
        self._state = 1


def _module_helper() -> None: ...


def use(bot, row, ours, kind) -> None:
    bot._post("sendMessage", {})
    ours._method(), ours._state, ours._slot, Ours._LIMIT, ours.__class__
    row._mapping, row._asdict(), kind._missing_
    pacing._module_helper(), bot._module_helper
"""
    assert violations({"bot/example.py": code}) == [
        "bot/example.py:3: import telegram._utils.types",
        "bot/example.py:4: from telegram._utils.defaultvalue import …",
        "bot/example.py:5: from telegram import _bot",
        "bot/example.py:23: ._post",
        "bot/example.py:26: ._module_helper",
    ]
