#!/usr/bin/env python3
"""Tests of the release tooling in packaging/, as .ci/run runs them:

    python3 packaging/check.py --binary target/debug/kubecredcache

They run the scripts as the release workflow does: archives made from the built binary,
manifests filled from a SHA256SUMS of dummy checksums and then read back (JSON, YAML,
and `ruby -c` on the formula when Ruby is installed), the workflow's targets compared
with the scripts'. Needs PyYAML."""

import argparse
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import release  # noqa: E402

VERSION = "1.2.3"
BINARY = None  # set from --binary
KREW_PLATFORM = {
    ("linux", "amd64"): "x86_64-unknown-linux-musl",
    ("linux", "arm64"): "aarch64-unknown-linux-musl",
    ("darwin", "amd64"): "x86_64-apple-darwin",
    ("darwin", "arm64"): "aarch64-apple-darwin",
    ("windows", "amd64"): "x86_64-pc-windows-msvc",
}


def script(name, *args, env=None):
    return subprocess.run(
        [sys.executable, str(HERE / name), *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


def dummy_sums():
    """A different made-up checksum for each target's archive."""
    return {
        release.archive_name(VERSION, t): hashlib.sha256(t.encode()).hexdigest() for t in release.TARGETS
    }


class Fill(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.sums = dummy_sums()

    def fill(self, sums, version=VERSION):
        path = self.dir / "SHA256SUMS"
        path.write_text("".join(f"{h}  {name}\n" for name, h in sums.items()))
        return script("fill.py", version, path, self.dir / "out")

    def test_every_placeholder_gets_its_value(self):
        result = self.fill(self.sums, version="v" + VERSION)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = self.dir / "out"
        self.assertEqual(sorted(p.name for p in out.iterdir()), ["credcache.yaml", "kubecredcache.json", "kubecredcache.rb"])
        for path in out.iterdir():
            self.assertIsNone(re.search(r"@[A-Z0-9_]+@", path.read_text()), path.name)

    def test_scoop_manifest(self):
        self.assertEqual(self.fill(self.sums).returncode, 0)
        manifest = json.loads((self.dir / "out/kubecredcache.json").read_text())
        target = "x86_64-pc-windows-msvc"
        name = release.archive_name(VERSION, target)
        self.assertEqual(manifest["version"], VERSION)
        self.assertEqual(manifest["bin"], "kubecredcache.exe")
        windows = manifest["architecture"]["64bit"]
        self.assertEqual(windows["url"], f"{release.REPOSITORY}/releases/download/v{VERSION}/{name}")
        self.assertEqual(windows["hash"], self.sums[name])
        self.assertEqual(windows["extract_dir"], release.archive_stem(VERSION, target))

    def test_krew_manifest(self):
        self.assertEqual(self.fill(self.sums).returncode, 0)
        plugin = yaml.safe_load((self.dir / "out/credcache.yaml").read_text())
        self.assertEqual((plugin["kind"], plugin["metadata"]["name"]), ("Plugin", "credcache"))
        self.assertEqual(plugin["spec"]["version"], "v" + VERSION)
        seen = set()
        for platform in plugin["spec"]["platforms"]:
            labels = platform["selector"]["matchLabels"]
            target = KREW_PLATFORM[(labels["os"], labels["arch"])]
            seen.add(target)
            name = release.archive_name(VERSION, target)
            self.assertEqual(platform["uri"], f"{release.REPOSITORY}/releases/download/v{VERSION}/{name}")
            self.assertEqual(platform["sha256"], self.sums[name])
            exe = "kubecredcache.exe" if release.is_windows(target) else "kubecredcache"
            self.assertEqual(platform["bin"], exe)
            self.assertIn(f"{release.archive_stem(VERSION, target)}/{exe}", [f["from"] for f in platform["files"]])
        self.assertEqual(seen, set(release.TARGETS))

    def test_homebrew_formula(self):
        self.assertEqual(self.fill(self.sums).returncode, 0)
        formula = (self.dir / "out/kubecredcache.rb").read_text()
        self.assertIn(f'version "{VERSION}"', formula)
        pairs = re.findall(r'url "([^"]+)"\s*\n\s*sha256 "([0-9a-f]{64})"', formula)
        self.assertEqual(len(pairs), formula.count('url "'), "every url has its sha256 on the next line")
        names = set()
        for url, checksum in pairs:
            name = url.rsplit("/", 1)[1]
            self.assertEqual(url, f"{release.REPOSITORY}/releases/download/v{VERSION}/{name}")
            self.assertEqual(checksum, self.sums[name], name)
            names.add(name)
        unix = {release.archive_name(VERSION, t) for t in release.TARGETS if not release.is_windows(t)}
        self.assertEqual(names, unix)
        ruby = shutil.which("ruby")
        if ruby:  # not on every machine; the structure above is checked either way
            result = subprocess.run([ruby, "-c", str(self.dir / "out/kubecredcache.rb")], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_missing_checksum_is_an_error_and_nothing_is_written(self):
        missing = release.archive_name(VERSION, "x86_64-apple-darwin")
        del self.sums[missing]
        result = self.fill(self.sums)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn(missing, result.stderr)
        self.assertFalse((self.dir / "out").exists())

    def test_bad_input_is_a_one_line_error(self):
        for version in ("1.2", "latest", "1.2.3; rm -rf /"):
            result = self.fill(self.sums, version=version)
            self.assertEqual(result.returncode, 1, version)
            self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        path = self.dir / "SHA256SUMS"
        path.write_text("not-a-checksum  kubecredcache-1.2.3-x86_64-apple-darwin.tar.gz\n")
        result = script("fill.py", VERSION, path, self.dir / "out")
        self.assertEqual(result.returncode, 1)
        self.assertIn("SHA256SUMS:1", result.stderr)


class Workflows(unittest.TestCase):
    def load(self, name):
        return yaml.safe_load((release.ROOT / ".github/workflows" / name).read_text())

    def test_the_release_builds_the_targets_the_manifests_expect(self):
        workflow = self.load("release.yml")
        targets = [entry["target"] for entry in workflow["jobs"]["build"]["strategy"]["matrix"]["include"]]
        self.assertEqual(sorted(targets), sorted(release.TARGETS))
        runs = "\n".join(
            step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
        )
        for used in ("packaging/archive.py", "packaging/fill.py", "packaging/release_notes.py"):
            self.assertIn(used, runs)

    def test_ci_runs_the_ci_script_on_linux_and_tests_on_macos_and_windows(self):
        jobs = self.load("ci.yml")["jobs"]
        runs = {name: "\n".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
        self.assertIn(".ci/run", runs["linux"])
        self.assertIn("cargo test", runs["macos"])
        self.assertIn("cargo test --lib", runs["windows"])


class Archive(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.version = release.crate_version()

    def archive(self, target, docs_from=None, epoch="1700000000"):
        # The binary archived is a small stand-in (compressing a 40 MB debug build four
        # times would be most of this test's time); the built one prints the docs.
        self.binary = self.dir / "stand-in"
        self.binary.write_bytes(b"\x7fELF a stand-in for the binary\n" * 100)
        args = ["--target", target, "--binary", self.binary, "--docs-from", docs_from or BINARY, "--out", self.dir]
        return script("archive.py", *args, env=dict(os.environ, SOURCE_DATE_EPOCH=epoch))

    def expected(self, target, exe):
        top = release.archive_stem(self.version, target)
        names = [exe, "kubecredcache.1", "README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"]
        names += [f"completions/{n}" for n in ("kubecredcache.bash", "_kubecredcache", "kubecredcache.fish", "kubecredcache.ps1")]
        return {f"{top}/{n}" for n in names}

    def test_a_unix_archive_holds_the_binary_page_and_completions(self):
        target = "x86_64-unknown-linux-musl"
        result = self.archive(target)
        self.assertEqual(result.returncode, 0, result.stderr)
        path = self.dir / release.archive_name(self.version, target)
        self.assertEqual(result.stdout.strip(), str(path))
        with tarfile.open(path) as tar:
            files = {m.name: m for m in tar.getmembers() if m.isfile()}
            self.assertEqual(set(files), self.expected(target, "kubecredcache"))
            top = release.archive_stem(self.version, target)
            self.assertEqual(files[f"{top}/kubecredcache"].mode, 0o755)
            self.assertEqual(tar.extractfile(files[f"{top}/kubecredcache"]).read(), self.binary.read_bytes())
            page = tar.extractfile(files[f"{top}/kubecredcache.1"]).read().decode()
            self.assertIn(f".TH KUBECREDCACHE 1 {self.version} ", page)
            bash = tar.extractfile(files[f"{top}/completions/kubecredcache.bash"]).read().decode()
            self.assertIn("complete -F", bash)
            self.assertTrue(all(m.uid == 0 and m.uname == "" for m in tar.getmembers()))

    def test_the_same_input_gives_the_same_archive(self):
        target = "aarch64-apple-darwin"
        path = self.dir / release.archive_name(self.version, target)
        self.assertEqual(self.archive(target).returncode, 0)
        first = path.read_bytes()
        self.assertEqual(self.archive(target).returncode, 0)
        self.assertEqual(path.read_bytes(), first)

    def test_a_windows_archive_is_a_zip_with_an_exe(self):
        target = "x86_64-pc-windows-msvc"
        self.assertEqual(self.archive(target).returncode, 0)
        with zipfile.ZipFile(self.dir / release.archive_name(self.version, target)) as archive:
            self.assertEqual(set(archive.namelist()), self.expected(target, "kubecredcache.exe"))
            self.assertIsNone(archive.testzip())

    def test_docs_come_from_a_build_of_this_version_only(self):
        stale = self.dir / "old-kubecredcache"
        stale.write_text("#!/bin/sh\necho kubecredcache 0.0.1\n")
        stale.chmod(stale.stat().st_mode | stat.S_IXUSR)
        result = self.archive("aarch64-unknown-linux-musl", docs_from=stale)
        self.assertEqual(result.returncode, 1)
        self.assertIn("0.0.1", result.stderr)
        self.assertEqual(list(self.dir.glob("*.tar.gz*")), [])


class ReleaseNotes(unittest.TestCase):
    def test_a_released_version_has_its_changelog_section(self):
        changelog = (release.ROOT / "CHANGELOG.md").read_text()
        self.assertIn("## [Unreleased]", changelog)
        result = script("release_notes.py", "v1.0.0")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("### "), result.stdout)
        self.assertNotIn("## [", result.stdout)
        self.assertNotIn("]: https://", result.stdout)

    def test_a_version_without_a_section_cannot_be_released(self):
        result = script("release_notes.py", "9.9.9")
        self.assertEqual(result.returncode, 1)
        self.assertIn("9.9.9", result.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="a kubecredcache built from this source")
    args, rest = parser.parse_known_args()
    BINARY = str(Path(args.binary).resolve())
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
