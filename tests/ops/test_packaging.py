"""`uv run glint serve` installs only what Glint needs to run; the developers' targets get the
test and lint tools. (Checked by hand too: a plain `uv sync --frozen` in a fresh copy installs
no Playwright, mypy or pytest, and `glint serve` runs there.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DEV_TOOLS = ("pytest", "playwright", "mypy", "ruff", "moto", "schemathesis", "hypothesis")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower() for req in requirements}


def test_a_plain_uv_sync_or_run_installs_no_dependency_group() -> None:
    assert PYPROJECT["tool"]["uv"]["default-groups"] == []
    runtime = _names(PYPROJECT["project"]["dependencies"])
    assert not runtime & set(DEV_TOOLS)
    assert set(DEV_TOOLS) <= _names(PYPROJECT["dependency-groups"]["dev"])
    assert "fastapi-offline" in runtime  # /docs needs it at run time


def test_every_make_target_uses_every_group() -> None:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    code = [line for line in lines if not line.lstrip().startswith("#")]
    assert "SYNC := $(UV) sync --frozen --all-groups" in code
    assert "RUN := $(UV) run --frozen --all-groups" in code
    recipes = [line for line in code if line.startswith("\t")]
    direct = [line for line in recipes if re.search(r"\buv\)? (run|sync)\b", line)]
    assert direct == [], "run uv through $(RUN) / $(SYNC), which take every group"
    assert sum("$(RUN)" in line for line in recipes) >= 10


def test_the_server_imports_no_dev_tool() -> None:
    """Importing the app and the command line pulls in none of the dev group's packages."""
    blocked = ", ".join(repr(name) for name in (*DEV_TOOLS, "httpx", "psutil"))
    script = (
        "import sys\n"
        f"BLOCKED = {{{blocked}}}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError(f'{name} is a dev tool')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import glint.app, glint.cli, glint.api.docs\n"
        "glint.app.create_app\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
