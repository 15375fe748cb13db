"""What a kubecredcache release is made of, in one place for the scripts beside this
file (archive.py, fill.py, release_notes.py) and their test (check.py): the targets,
the archive names, the crate's version. Standard library only: the release workflow
runs these on stock GitHub runners."""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/kubecredcache/kubecredcache"

# The release targets, as .github/workflows/release.yml builds them (check.py compares).
TARGETS = (
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
)

VERSION_PATTERN = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")


class ReleaseError(Exception):
    """A mistake in the input, reported as one line and exit code 1."""


def crate_version() -> str:
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def is_windows(target: str) -> bool:
    return "-windows-" in target


def archive_stem(version: str, target: str) -> str:
    """The archive's name without extension, which is also its top directory."""
    return f"kubecredcache-{version}-{target}"


def archive_name(version: str, target: str) -> str:
    return archive_stem(version, target) + (".zip" if is_windows(target) else ".tar.gz")


def checksum_placeholder(target: str) -> str:
    """The placeholder the templates use for a target's archive checksum."""
    return "@SHA256_" + target.upper().replace("-", "_") + "@"


def check_version(version: str) -> str:
    """`v1.2.3` or `1.2.3` as `1.2.3`; anything else is refused."""
    bare = version[1:] if version.startswith("v") else version
    if not VERSION_PATTERN.match(bare):
        raise ReleaseError(f"{version!r} is not a version like 1.2.3")
    return bare


def main(run) -> None:
    """Runs `run(argv)`, turning a ReleaseError into one line on stderr and exit code 1."""
    try:
        run(sys.argv[1:])
    except ReleaseError as e:
        print(f"{Path(sys.argv[0]).name}: {e}", file=sys.stderr)
        sys.exit(1)
