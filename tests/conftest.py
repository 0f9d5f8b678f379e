"""Shared fixtures: a small synthetic utility (real generator, real import), a throwaway
pseudonym key and a throwaway MLflow store per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
warnings.filterwarnings("ignore", category=RuntimeWarning)

SMALL = {"customers": 600, "months": 24, "seed": 11}
ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("POWERLENS_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
PROJECT_FILES = ["dvc.yaml", "params.yaml", "playbook.yaml", "pyproject.toml", ".dvcignore", ".gitignore"]
PROJECT_DIRS = ["pipelines", "src", "notebooks"]


def real_data(*parts: str) -> Path:
    """A path in the real-data folder; missing data fails in CI and skips elsewhere."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real data not found at {path} (set POWERLENS_REAL_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(cmd, cwd, env):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _merge(base: dict, update: dict) -> dict:
    for k, v in update.items():
        base[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def project_copy(project: Path, key_file: Path, params_update: dict) -> dict:
    """A copy of the project (git + dvc initialised, params overridden) and the environment
    to run it with its own MLflow store and pseudonym key."""
    import yaml

    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, project / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, project / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".ipynb_checkpoints"))
    params = _merge(yaml.safe_load((project / "params.yaml").read_text()), params_update)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
           "POWERLENS_ROOT": str(project), "POWERLENS_KEY_FILE": str(key_file),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    run(["git", "init", "-q"], project, env)
    dvc = [sys.executable, "-m", "dvc"]
    run(dvc + ["init", "-q"], project, env)
    run(dvc + ["config", "core.analytics", "false"], project, env)
    run(["git", "add", "-A"], project, env)
    run(["git", "commit", "-qm", "init"], project, env)
    return env


@pytest.fixture(scope="session")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "pseudonym.key"
    path.write_text("ab" * 32 + "\n")
    os.environ["POWERLENS_KEY_FILE"] = str(path)
    return path


@pytest.fixture(scope="session")
def key(key_file) -> bytes:
    return key_file.read_text().strip().encode()


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    from powerlens.synthetic import SyntheticConfig, generate

    out = tmp_path_factory.mktemp("raw")
    generate(SyntheticConfig(**SMALL), out)
    return out


@pytest.fixture(scope="session")
def small_clean(small_raw, key, tmp_path_factory) -> Path:
    from powerlens.importers.utility_export import import_utility_export

    out = tmp_path_factory.mktemp("clean")
    import_utility_export(small_raw, out, key, truth_out=out.parent / "truth.parquet")
    return out


@pytest.fixture(scope="session")
def small_truth(small_clean) -> Path:
    return small_clean.parent / "truth.parquet"


@pytest.fixture(scope="session")
def small_data(small_clean):
    from powerlens.features import load_clean

    return load_clean(small_clean)


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("POWERLENS_ROOT", str(tmp_path))
    return uri
