#!/usr/bin/env python3
"""Prints the CHANGELOG.md section of one version, for its release's notes.

    python3 packaging/release_notes.py VERSION > notes.md

A version without a section is an error: a release says what changed."""

import re

import release
from release import ReleaseError


def notes(changelog: str, version: str) -> str:
    heading = re.compile(r"^## \[" + re.escape(version) + r"\]", re.MULTILINE)
    found = heading.search(changelog)
    if not found:
        raise ReleaseError(f"CHANGELOG.md has no section for {version} (a line '## [{version}] - DATE')")
    body = changelog[found.end() :]
    end = re.search(r"^(## |\[[^\]]+\]: )", body, re.MULTILINE)
    text = body[: end.start()] if end else body
    # The rest of the heading line (" - 2026-11-29") is not part of the notes.
    text = text.split("\n", 1)[1] if "\n" in text else ""
    if not text.strip():
        raise ReleaseError(f"CHANGELOG.md's section for {version} is empty")
    return text.strip() + "\n"


def run(argv) -> None:
    if len(argv) != 1:
        raise ReleaseError("usage: release_notes.py VERSION")
    version = release.check_version(argv[0])
    print(notes((release.ROOT / "CHANGELOG.md").read_text(), version), end="")


if __name__ == "__main__":
    release.main(run)
