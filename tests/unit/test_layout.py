"""The repository's layout rules."""

import importlib
import sysconfig
from pathlib import Path

from tests.helpers import REPO


def test_import_platform_is_the_standard_library() -> None:
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert not (REPO / "platform" / "__init__.py").exists()


def test_arbiter_package_lives_under_platform_folder() -> None:
    arbiter = importlib.import_module("arbiter")
    assert Path(arbiter.__file__).resolve().parent == (REPO / "platform" / "arbiter").resolve()
