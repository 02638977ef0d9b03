"""YAML loading that remembers where every value stood, so problems name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def _line_map(node: yaml.Node, path: Loc, out: dict[Loc, int], duplicates: list[Loc]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            if child in out:
                # YAML keeps the last of two equal keys silently; a copy-paste slip must not.
                duplicates.append(child)
            _line_map(value, child, out, duplicates)
            out[child] = key.start_mark.line + 1  # point at the key, where a person looks
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out, duplicates)


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse one file: (data, line of each path, problems)."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        return None, {}, [Problem(path, 1, f"cannot read the file ({exc.strerror})")]
    except UnicodeDecodeError as exc:
        return None, {}, [Problem(path, 1, f"not UTF-8 text ({exc.reason})")]
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        return None, {}, [Problem(path, line, f"YAML syntax: {exc.problem}")]
    lines: dict[Loc, int] = {}
    duplicates: list[Loc] = []
    if node is not None:
        _line_map(node, (), lines, duplicates)
    if duplicates:
        return None, lines, [_duplicate(path, loc, lines) for loc in duplicates]
    return data, lines, []


def _duplicate(path: Path, loc: Loc, lines: dict[Loc, int]) -> Problem:
    where = ".".join(str(p) for p in loc)
    return Problem(path, lines[loc], f"{where}: this key appears more than once")


def validate(
    path: Path, model: type[M], data: Any, lines: dict[Loc, int]
) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(p) for p in loc) or "(file)"
            problems.append(Problem(path, _line_for(loc, lines), f"{where}: {error['msg']}"))
        return None, problems


def load_model(path: Path, model: type[M]) -> tuple[M | None, list[Problem]]:
    data, lines, problems = read_yaml(path)
    if problems:
        return None, problems
    return validate(path, model, data, lines)


def load_folder(
    folder: Path, model: type[M], problems: list[Problem], *, id_field: str = "id"
) -> dict[str, M]:
    """One item per *.yaml file, keyed by its id, which must equal the file name."""
    items: dict[str, M] = {}
    if not folder.is_dir():
        problems.append(Problem(folder, 1, "folder is missing"))
        return items
    for path in sorted(folder.glob("*.yml")):
        problems.append(Problem(path, 1, "content files must end in .yaml, not .yml"))
    for path in sorted(folder.glob("*.yaml")):
        data, lines, found = read_yaml(path)
        item = None
        if not found:
            item, found = validate(path, model, data, lines)
        problems.extend(found)
        if item is None:
            continue
        item_id = str(getattr(item, id_field))
        if item_id != path.stem:
            line = lines.get((id_field,), 1)
            problems.append(Problem(path, line, f"{id_field} {item_id!r} must match the file name"))
            continue
        items[item_id] = item
    if not items and not any(p.file.parent == folder for p in problems):
        problems.append(Problem(folder, 1, "no *.yaml files"))
    return items
