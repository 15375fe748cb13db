#!/usr/bin/env python3
"""Makes one release archive: kubecredcache-VERSION-TARGET.tar.gz (.zip for Windows),
holding a directory of the same name with the binary, the manual page, the completion
scripts, the README, the changelog and the licences.

    python3 packaging/archive.py --target TARGET --binary PATH [--docs-from PATH] --out DIR

The manual page and the completions are what the binary prints (`man`, `completion
SHELL`). A binary this machine cannot run (a cross build) names a host build of the
same source with --docs-from; the version that build prints must be the crate's. File
times come from SOURCE_DATE_EPOCH when it is set, so that the archive is reproducible."""

import argparse
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import release
from release import ReleaseError

DOCUMENTS = ("README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE")
# Each shell's script under the name its completion system looks for.
COMPLETIONS = {
    "bash": "kubecredcache.bash",
    "zsh": "_kubecredcache",
    "fish": "kubecredcache.fish",
    "powershell": "kubecredcache.ps1",
}


def printed(binary: Path, *args: str) -> bytes:
    result = subprocess.run([str(binary.resolve()), *args], capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip()
        raise ReleaseError(f"`{binary} {' '.join(args)}` failed ({result.returncode}): {message}")
    return result.stdout


def contents(target: str, binary: Path, docs_from: Path, version: str) -> dict:
    """{path in the archive: (bytes, mode)}."""
    said = printed(docs_from, "--version").decode().strip().split("\n")[0]
    if said != f"kubecredcache {version}":
        raise ReleaseError(f"{docs_from} says {said!r}, but Cargo.toml says {version}: not a build of this source")
    top = release.archive_stem(version, target)
    exe = "kubecredcache.exe" if release.is_windows(target) else "kubecredcache"
    files = {f"{top}/{exe}": (binary.read_bytes(), 0o755)}
    files[f"{top}/kubecredcache.1"] = (printed(docs_from, "man"), 0o644)
    for shell, name in COMPLETIONS.items():
        files[f"{top}/completions/{name}"] = (printed(docs_from, "completion", shell), 0o644)
    for name in DOCUMENTS:
        files[f"{top}/{name}"] = ((release.ROOT / name).read_bytes(), 0o644)
    return files


def write_tar_gz(path: Path, files: dict, mtime: int) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted({str(Path(n).parent) for n in files}):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(info)
        for name, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, mtime
            tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime, filename="") as gz:
        gz.write(buffer.getvalue())


def write_zip(path: Path, files: dict, mtime: int) -> None:
    stamp = time.gmtime(max(mtime, 315532800))[:6]  # zip times start in 1980
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in sorted(files.items()):
            info = zipfile.ZipInfo(name, stamp)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def run(argv) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, choices=release.TARGETS)
    parser.add_argument("--binary", required=True, type=Path)
    parser.add_argument("--docs-from", type=Path, help="a build this machine can run [default: --binary]")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if not args.binary.is_file():
        raise ReleaseError(f"no binary at {args.binary}")
    version = release.crate_version()
    files = contents(args.target, args.binary, args.docs_from or args.binary, version)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / release.archive_name(version, args.target)
    partial = path.with_name(path.name + ".partial")
    (write_zip if release.is_windows(args.target) else write_tar_gz)(partial, files, mtime)
    shutil.move(partial, path)
    print(path)


if __name__ == "__main__":
    release.main(run)
