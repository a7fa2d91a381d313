"""The docs a developer acts on stay true: CI runs the README's test command, and docs/architecture.md
names only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_runs_the_readme_full_test_command():
    readme = [line.split("#")[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
              if line.startswith("python -m pytest")]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line
          and not line.lstrip().startswith("#")]
    assert readme and ci == readme[:1]


def test_architecture_names_only_modules_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`?([\w/]+\.py)\b", text))
    package = ROOT / "summarizer"
    missing = [name for name in named
               if not any((base / name).exists() for base in (ROOT, package, package / "models", package / "cli"))]
    assert named and not missing, missing


def test_every_subpackage_is_listed_for_installation():
    """pyproject lists packages by hand: one missing works in an editable install and breaks `pip install .`."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "summarizer").rglob("__init__.py")}
    assert found and found <= listed


def test_every_data_file_in_the_package_is_shipped():
    """Files that are not Python (prompt templates, the tiny models' corpus) reach a non-editable install only
    when package-data names them."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {name: ROOT.joinpath(*name.split(".")) for name in setuptools["packages"]}
    folders.update({name: ROOT / path for name, path in setuptools["package-dir"].items()})
    shipped = {path for name, patterns in setuptools["package-data"].items() for pattern in patterns
               for path in folders[name].glob(pattern)}
    data = {path for folder in folders.values() for path in folder.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and not path.name.startswith(".")}
    assert data and data <= shipped, sorted(str(path.relative_to(ROOT)) for path in data - shipped)
