"""The committed lock matches pyproject.toml: `make lock` was run after the last dependency
change, nobody edited a pin by hand, and the Docker image's lock pins what the dev venv runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

TOP = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((TOP / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_LOCK = TOP / "requirements.txt"
DEV_LOCK = TOP / "requirements-dev.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, str]:
    """name → version; every pin must carry at least one hash (pip's --require-hashes)."""
    found: dict[str, str] = {}
    text = lock.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#"):
            continue
        match = _PIN.match(block)
        assert match, f"{lock.name}: not a pin: {block.splitlines()[0]!r}"
        assert "--hash=sha256:" in block, f"{lock.name}: {match[1]} has no hash"
        found[canonicalize_name(match[1])] = match[2]
    return found


def _requirements(*groups: list[str]) -> list[Requirement]:
    return [Requirement(line) for group in groups for line in group]


RUNTIME = _requirements(PYPROJECT["project"]["dependencies"])
DEV = _requirements(PYPROJECT["project"]["optional-dependencies"]["dev"])
BUILD = _requirements(PYPROJECT["dependency-groups"]["build"])


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [(RUNTIME_LOCK, RUNTIME + BUILD), (DEV_LOCK, RUNTIME + DEV + BUILD)],
    ids=["runtime", "dev"],
)
def test_every_requirement_is_pinned_within_its_range(
    lock: Path, wanted: list[Requirement]
) -> None:
    pinned = pins(lock)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock.name}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock.name} pins {name}=={pinned[name]} outside {requirement}: run make lock"
        )


def test_the_image_lock_is_the_dev_lock_without_the_tools() -> None:
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime  # the same versions
    tools = {canonicalize_name(r.name) for r in DEV}
    assert not tools & set(runtime)  # ruff, mypy, pytest ... stay out of the image


def test_the_locked_build_backend_is_the_one_pyproject_builds_with() -> None:
    """The venv and the image install the package with --no-build-isolation, i.e. with the
    setuptools from the lock: it must satisfy [build-system] requires."""
    assert PYPROJECT["build-system"]["requires"] == PYPROJECT["dependency-groups"]["build"]
