#!/usr/bin/env python3
"""Fills the package manifests in packaging/ (Homebrew formula, Scoop manifest, krew
manifest) with a release's version and its archives' checksums.

    python3 packaging/fill.py VERSION SHA256SUMS OUT_DIR

VERSION is `1.2.3` or `v1.2.3`; SHA256SUMS is `sha256sum` output for the release
archives. Every @VERSION@ and @SHA256_<TARGET>@ placeholder is replaced (the target in
upper case, `-` as `_`); a placeholder left over, or an archive with no checksum, is an
error, and then nothing is written."""

import re
from pathlib import Path

import release
from release import ReleaseError

TEMPLATES = {
    "homebrew/kubecredcache.rb": "kubecredcache.rb",
    "scoop/kubecredcache.json": "kubecredcache.json",
    "krew/credcache.yaml": "credcache.yaml",
}
PLACEHOLDER = re.compile(r"@[A-Z0-9_]+@")
SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](\S+)$")


def read_sums(path: Path) -> dict:
    """`sha256sum` output as {archive name: checksum}."""
    sums = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        match = SUMS_LINE.match(line)
        if not match:
            raise ReleaseError(f"{path}:{number}: not a line of sha256sum output: {line!r}")
        sums[Path(match.group(2)).name] = match.group(1).lower()
    return sums


def values(version: str, sums: dict) -> dict:
    """Each placeholder's value. A target's checksum is looked up only when a template
    uses it, so that the error names the archive that is missing."""
    found = {"@VERSION@": version}
    for target in release.TARGETS:
        name = release.archive_name(version, target)
        if name in sums:
            found[release.checksum_placeholder(target)] = sums[name]
    return found


def fill(text: str, source: str, version: str, known: dict) -> str:
    def replace(match):
        placeholder = match.group(0)
        if placeholder in known:
            return known[placeholder]
        for target in release.TARGETS:
            if placeholder == release.checksum_placeholder(target):
                raise ReleaseError(f"SHA256SUMS has no line for {release.archive_name(version, target)} ({source})")
        raise ReleaseError(f"{source}: unknown placeholder {placeholder}")

    return PLACEHOLDER.sub(replace, text)


def run(argv) -> None:
    if len(argv) != 3:
        raise ReleaseError("usage: fill.py VERSION SHA256SUMS OUT_DIR")
    version = release.check_version(argv[0])
    sums = read_sums(Path(argv[1]))
    out = Path(argv[2])
    known = values(version, sums)
    here = Path(__file__).resolve().parent
    filled = {name: fill((here / source).read_text(), source, version, known) for source, name in TEMPLATES.items()}
    out.mkdir(parents=True, exist_ok=True)
    for name, text in filled.items():
        (out / name).write_text(text)
        print(out / name)


if __name__ == "__main__":
    release.main(run)
