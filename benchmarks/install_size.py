"""How big is what the container image adds to python:3.11-slim? Performs the Dockerfile's
install steps in a throwaway virtualenv and weighs it.

Run from the repository root: `python -m benchmarks.install_size` (needs PyPI, takes a few
minutes). Steps, as in the Dockerfile: the dependencies from pyproject.toml, then
docker/slim-venv.sh, then postcoach itself, not editable. Prints the virtualenv's size
before and after the slimming, and the largest packages; the last line is
`venv_mb: X`. The image is this plus the base image (about 130 MB unpacked): where a Docker
daemon runs, `docker image ls postcoach` gives the real figure.

Target: the virtualenv well under the 522 MB it took before (of which 179 MB were city
lists postcoach never reads).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def size_of(path: Path) -> int:
    """Bytes in the files under path (symbolic links not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def _pip(venv: Path, *args: str) -> None:
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    with tempfile.TemporaryDirectory(prefix="postcoach-size-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(dependencies) + "\n")
        _pip(venv, "install", "--quiet", "--no-cache-dir", "-r", str(requirements))
        installed = size_of(venv)
        subprocess.run(["sh", str(ROOT / "docker" / "slim-venv.sh"), str(venv)], check=True)
        _pip(venv, "install", "--quiet", "--no-cache-dir", "--no-deps", str(ROOT))
        slim = size_of(venv)
        [site] = (venv / "lib").glob("python3*/site-packages")
        packages = sorted(
            ((size_of(p) if p.is_dir() else p.stat().st_size, p.name) for p in site.iterdir()),
            reverse=True,
        )
    print(f"dependencies as installed: {installed / MB:.0f} MB")
    print(f"after docker/slim-venv.sh and postcoach: {slim / MB:.0f} MB")
    print("largest: " + ", ".join(f"{name} {size / MB:.0f}" for size, name in packages[:8]))
    print(f"venv_mb: {slim / MB:.0f}")


if __name__ == "__main__":
    main()
