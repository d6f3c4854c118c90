"""tools/check_imports.py, the house rules for imports that `make test` runs: it passes on our
tree and fails on each kind of problem."""

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parents[2] / "tools" / "check_imports.py"


def check(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK), str(src)], capture_output=True, text=True, check=False
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "adminpanel" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_our_tree_keeps_the_rules():
    done = check(CHECK.parents[1] / "src")
    assert done.returncode == 0, done.stdout


def test_a_cycle_a_function_local_import_and_a_two_way_pair_fail(tmp_path):
    files = {f"{a}/__init__.py": "" for a in ("mail", "web", "accounts", "audit")}
    files.update(
        {
            "mail/a.py": "from adminpanel.web import b\n",
            "web/b.py": "def f():\n    from adminpanel.mail import a\n",
            "accounts/x.py": "from adminpanel.audit import y\n",
            "audit/y.py": "from adminpanel.accounts import z\n",
            "accounts/z.py": "",
        }
    )
    done = check(tree(tmp_path, files))
    assert done.returncode == 1
    assert "import cycle: adminpanel.mail.a <-> adminpanel.web.b" in done.stdout
    assert "import inside a function: " in done.stdout
    assert "packages importing each other: adminpanel.mail <-> adminpanel.web" in done.stdout
    # no cycle of modules, yet a layer leans on the one above it
    assert "packages importing each other: adminpanel.accounts <-> adminpanel.audit" in done.stdout


def test_a_test_that_imports_from_a_conftest_or_another_test_fails(tmp_path):
    src = tree(tmp_path / "src", {"__init__.py": ""})
    (tmp_path / "tests" / "api").mkdir(parents=True)
    (tmp_path / "tests" / "api" / "test_a.py").write_text("from tests.api.conftest import Api\n")
    (tmp_path / "tests" / "api" / "test_b.py").write_text("from tests.api.test_a import x\n")
    (tmp_path / "tests" / "api" / "test_c.py").write_text("from tests.api.client import Api\n")
    done = check(src)
    assert done.returncode == 1
    assert "test_a.py:1 imports from tests.api.conftest" in done.stdout
    assert "test_b.py:1 imports from tests.api.test_a" in done.stdout
    assert "test_c.py" not in done.stdout
