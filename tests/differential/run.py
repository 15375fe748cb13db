#!/usr/bin/env python3
"""Differential test of `setup` and `unsetup` against real kubectl.

Generates random kubeconfigs (every quoting style, block scalars, tags, YAML 1.1 words
and numbers, anchors and merges, CRLF, a lone CR, U+2028, a BOM, comments everywhere,
among block args too, exec entries written as JSON), then for each one:

- `kubectl config view --raw -o json` before and after `setup`: the same, once each
  entry that runs kubecredcache is read as the command it wraps (and v1alpha1 as
  v1beta1, which setup upgrades); every comment line kept;
- a file kubectl refuses must not be written by setup; a file setup refuses is left
  as it was, with a one-line error (counted by reason: anchors, merges and tags on an
  exec entry are refused on purpose);
- `unsetup` with setup's backup gives the original bytes back;
- `unsetup` of the wrapped file without any backup (the edit in place) gives kubectl's
  view of the original back.

Usage (docs/architecture.md; .ci/run runs a small one):

    cargo build && tests/differential/run.py --seed 21 --count 3000

Exit status 1 on any difference; the files that differ are kept in --keep.
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

V1BETA1 = "client.authentication.k8s.io/v1beta1"
V1ALPHA1 = "client.authentication.k8s.io/v1alpha1"
YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""}
TRICKY = ["yes", "No", "on", "OFF", "y", "true", "null", "~", "1_000", "017", "0x1F", "1e3", ".inf",
          "2001-12-14", "<<", "=", "a: b", "x #y", "c?d", "a,b", "[x]", "{x}", "*a", "&a", "!t", "%d",
          "@a", "`t", "|", ">", "'", '"', "-", "--", "-1", "", " lead", "trail ", "tab\there",
          "line\nbreak", "cr\rhere", "back\\slash", "ünï", "é\u0085", "\u2028", "smile\U0001F600",
          "bell\x07", "del\x7f", "nbsp\u00a0", "x\\/y"]
SAFE = ["prod", "staging", "c-1", "my.cluster", "us-west-2", "dev_2", "arn:aws:eks:us-west-2:1:cluster/p",
        "/tmp/x", "--verbose", "a=b", "team@corp"]


def word(rng):
    if rng.random() < 0.3:
        return rng.choice(TRICKY)
    return rng.choice(SAFE) + (str(rng.randrange(100)) if rng.random() < 0.3 else "")


def double_quoted(rng, s):
    escape_all = rng.random() < 0.3
    out = []
    for c in s:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif o < 0x20 or 0x7F <= o < 0xA0 or c in "\u2028\u2029\ufeff" or (escape_all and o > 0x7E):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def printable(s):
    return all(c == " " or (c.isprintable() and c not in "\u2028\u2029\u0085\ufeff") for c in s)


def scalar(rng, s, flow, indent):
    """`s` in a random style that YAML 1.1 reads as the string `s`."""
    styles = ["double"]
    plain_chars = all(c.isalnum() and c.isascii() or c in "_./=@+-" + ("" if flow else ":") for c in s)
    if s and plain_chars and (s[0].isalpha() or s[0] in "/_") and s.lower() not in YAML11_WORDS:
        styles += ["plain", "plain"]
    if printable(s):
        styles.append("single")
    if not flow and s and printable(s.replace("\n", "")) and s[0] not in " \n" and not s.endswith("\n"):
        styles.append("block")
    style = rng.choice(styles)
    if style == "plain":
        return s
    if style == "single":
        return "'" + s.replace("'", "''") + "'"
    if style == "block":
        pad = " " * (indent + 2)
        return "|-\n" + "\n".join(pad + line if line else "" for line in s.split("\n"))
    return double_quoted(rng, s)


def comment(rng):
    return "  # " + rng.choice(["note", "on: x", "- item", "'quoted'"]) if rng.random() < 0.2 else ""


def exec_command(rng, anchors):
    """The command, its args and how the entry is shared, for one exec user."""
    kind = rng.choice(["aws", "aws", "iam", "gke", "kubelogin", "oci", "unknown", "wrapped"]
                      + (["merged"] if anchors else []))
    if kind == "aws":
        region = ["--region", rng.choice(["us-west-2", word(rng)])] if rng.random() < 0.4 else []
        return "aws", region + ["eks", "get-token", "--cluster-name", word(rng)], kind
    if kind == "iam":
        return "aws-iam-authenticator", ["token", "-i", word(rng)], kind
    if kind == "gke":
        return "gke-gcloud-auth-plugin", [], kind
    if kind == "kubelogin":
        return "kubelogin", ["get-token", "--server-id", word(rng), "--login", "devicecode"], kind
    if kind == "oci":
        return "oci", ["ce", "cluster", "generate-token", "--cluster-id", word(rng)], kind
    if kind == "unknown":
        return "vault-login", ["--role", word(rng)], kind
    if kind == "wrapped":
        return "kubecredcache", ["aws", "eks", "get-token", "--cluster-name", word(rng)], kind
    return None, None, kind


def exec_fields(rng, command, args, flow, indent):
    """The exec entry's fields as (key, text) pairs, the text after `key:`."""
    fields = []
    version = rng.choice([V1BETA1, V1BETA1, V1ALPHA1, None])
    if version:
        fields.append(("apiVersion", " " + scalar(rng, version, flow, indent)))
    tag = "!!str " if rng.random() < 0.03 else ""
    fields.append(("command", " " + tag + scalar(rng, command, flow, indent)))
    shape = rng.choice(["block", "block", "flow", "flow"] + (["absent", "null", "empty"] if not args else []))
    if shape == "block" and args and not flow:
        pad = " " * (indent + rng.choice([0, 2]))
        items = []
        for i, a in enumerate(args):
            # Comments among the items, but by the first and before the second, which
            # unsetup takes away with the first when it is the command wrapped.
            if i != 1 and rng.random() < 0.15:
                items.append(f"\n{pad}# before {i}")
            item = scalar(rng, a, False, len(pad) + 2)
            items.append(f"\n{pad}- {item}" + (comment(rng) if i and "\n" not in item and item[0] not in "|>" else ""))
        fields.append(("args", "".join(items)))
    elif shape in ("block", "flow"):
        items = [scalar(rng, a, True, indent) for a in args]
        sep = ",\n" + " " * (indent + 2) if rng.random() < 0.2 and not flow else ", "
        fields.append(("args", " [" + sep.join(items) + "]"))
    elif shape == "null":
        fields.append(("args", rng.choice(["", " ~", " null"])))
    elif shape == "empty":
        fields.append(("args", " []"))
    if rng.random() < 0.5:
        env = ", ".join("{name: %s, value: %s}" % (rng.choice(["A", "AWS_PROFILE", "X_1"]),
                                                    scalar(rng, word(rng), True, indent))
                        for _ in range(rng.randrange(1, 3)))
        fields.append(("env", f" [{env}]"))
    if rng.random() < 0.4:
        fields.append(("provideClusterInfo", " " + rng.choice(["on", "yes", "true", "off", "false", "n"])))
    if rng.random() < 0.4:
        fields.append(("interactiveMode", " " + rng.choice(["Never", "IfAvailable", "'Never'"])))
    rng.shuffle(fields)
    return fields


def user_lines(rng, index, anchors):
    name = scalar(rng, f"u{index}-{word(rng)}", False, 2)
    lines = [f"- name: {name}" + ("" if name.startswith("|") else comment(rng))]
    if rng.random() < 0.15:
        return lines + ["  user:", f"    token: {scalar(rng, word(rng), False, 4)}"]
    command, args, kind = exec_command(rng, anchors)
    if kind == "merged":
        return lines + ["  user:", "    exec:", "      <<: *base", f"      env: [{{name: A, value: {scalar(rng, word(rng), True, 6)}}}]"]
    lines.append("  user:")
    if rng.random() < 0.2:
        fields = exec_fields(rng, command, args, True, 4)
        # Now and then as a tool writing JSON writes it: keys quoted.
        quote = (lambda k: f'"{k}"') if rng.random() < 0.3 else (lambda k: k)
        return lines + ["    exec: {" + ", ".join(f"{quote(k)}:{v}" for k, v in fields) + "}" + comment(rng)]
    lines.append("    exec:" + comment(rng))
    for key, text in exec_fields(rng, command, args, False, 6):
        if rng.random() < 0.15:
            lines.append("      # about " + key)
        lines.append(f"      {key}:{text}" + (comment(rng) if not text.startswith((" |", "\n")) and "\n" not in text else ""))
    return lines


def kubeconfig(rng):
    anchors = rng.random() < 0.1
    lines = ["# generated"] if rng.random() < 0.5 else []
    lines += ["apiVersion: v1" + comment(rng), "kind: Config"]
    if anchors:
        lines += ["x-defaults:", f"  base: &base {{apiVersion: {V1BETA1}, command: aws, args: [eks, get-token, --cluster-name, base]}}"]
    if rng.random() < 0.3:
        lines.append(f"preferences: {{colors: {rng.choice(['on', 'off', 'yes', 'true'])}}}")
    lines += ["clusters:", "- name: c" + comment(rng), "  cluster:",
              f"    server: {scalar(rng, 'https://k.example.com', False, 4)}"]
    if rng.random() < 0.3:
        lines.append(f"    insecure-skip-tls-verify: {rng.choice(['yes', 'on', 'true', 'y'])}")
    if rng.random() < 0.3:
        lines += ["    extensions:", f"    - name: e\n      extension: {{a: {rng.choice(['017', '1_000', '0b101', 'on', '1.5'])}, b: {scalar(rng, word(rng), True, 6)}}}"]
    lines.append("users:")
    for index in range(rng.randrange(1, 5)):
        lines += user_lines(rng, index, anchors)
    lines += ["contexts:", "- name: c", "  context: {cluster: c, user: u0}", "current-context: c"]
    if rng.random() < 0.3:
        lines.append("# the end")
    if rng.random() < 0.05:
        # What libyaml reads and kubectl's go-yaml v2 refuses: setup must refuse it too.
        hazard = rng.choice(['x-hazard: "a\\/b"', "x-hazard: [c?d]", "x-list: &l [{env: []}]\nx-hazard: {<<: *l}"])
        lines.insert(2, hazard)
    if rng.random() < 0.02:
        lines.insert(0, rng.choice(["%YAML 1.1\n---", "%YAML 1.2\n---"]))
    newline = rng.choices(["\n", "\r\n", "\r", "\u2028"], [85, 11, 2, 2])[0]
    text = newline.join("\n".join(lines).split("\n")) + newline
    return ("\ufeff" if rng.random() < 0.05 else "") + text


def view(kubectl, path):
    run = subprocess.run([kubectl, "config", "view", "--raw", "-o", "json"], capture_output=True,
                         env={**os.environ, "KUBECONFIG": path}, timeout=60)
    return json.loads(run.stdout) if run.returncode == 0 else None


def as_unwrapped(doc):
    """kubectl's view with every entry that runs kubecredcache read as what it wraps."""
    doc = json.loads(json.dumps(doc))
    for user in doc.get("users") or []:
        entry = (user.get("user") or {}).get("exec")
        if not entry:
            continue
        if os.path.basename(entry.get("command") or "") == "kubecredcache" and entry.get("args"):
            entry["command"], entry["args"] = entry["args"][0], entry["args"][1:]
        if entry.get("apiVersion") == V1ALPHA1:
            entry["apiVersion"] = V1BETA1
        if not entry.get("args"):
            entry["args"] = None
    return doc


def comments(text):
    lines = re.split("\r\n|[\r\n\x85\u2028\u2029]", text)
    return sorted(line.strip() for line in lines if line.strip().startswith("#"))


def one(binary, kubectl, seed, index, keep):
    """Checks one generated file; returns (outcome, detail)."""
    rng = random.Random(f"{seed}:{index}")
    text = kubeconfig(rng)
    work = tempfile.mkdtemp(prefix="kcc-diff-")
    try:
        path = os.path.join(work, "config")
        with open(path, "w", newline="") as f:
            f.write(text)
        env = {**os.environ, "HOME": work, "PATH": "/usr/bin:/bin"}
        run = lambda *args: subprocess.run([binary, *args, "--kubeconfig", path], capture_output=True,
                                           text=True, env=env, timeout=60)
        read = lambda: open(path, newline="", encoding="utf-8").read()
        before = view(kubectl, path)
        setup = run("setup")
        backups = [n for n in os.listdir(work) if ".kubecredcache.bak" in n]
        if setup.returncode != 0:
            if read() != text or backups or len(setup.stderr.strip().split("\n")) != 1:
                return fail(keep, index, text, "a refusal wrote or said more than one line: " + setup.stderr)
            if before is None:
                return "both refuse", ""
            reason = re.sub(r"^user '.*?': ", "", setup.stderr.split(path + ": ", 1)[-1])
            return "setup refuses", re.split(r" (?:at|in) users|, | \(", reason)[0]
        wrapped = read()
        if wrapped == text:
            return "nothing to wrap", ""
        if before is None:
            return fail(keep, index, text, "setup wrote a file kubectl refuses")
        after = view(kubectl, path)
        if after is None or as_unwrapped(after) != as_unwrapped(before) or comments(wrapped) != comments(text):
            return fail(keep, index, text, f"kubectl reads otherwise after setup:\n{wrapped}")
        unsetup = run("unsetup")
        restored = read()
        if unsetup.returncode != 0 and "reached through" in unsetup.stderr and restored == wrapped:
            # An entry wrapped before setup ran, tagged or shared: refused on purpose.
            return "unsetup refuses", ""
        if unsetup.returncode != 0 or (restored != text and "already runs" not in setup.stdout):
            return fail(keep, index, text, f"unsetup did not give the original back:\n{restored}")
        with open(path, "w", newline="") as f:
            f.write(wrapped)
        for name in os.listdir(work):
            if ".kubecredcache.bak" in name:
                os.remove(os.path.join(work, name))
        unsetup = run("unsetup")
        in_place = view(kubectl, path)
        if unsetup.returncode != 0 or in_place is None or as_unwrapped(in_place) != as_unwrapped(before) \
                or comments(read()) != comments(text):
            return fail(keep, index, text, f"unsetup in place reads otherwise:\n{read()}")
        return "wrapped", str(setup.stdout.count("wrapped    "))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fail(keep, index, text, why):
    os.makedirs(keep, exist_ok=True)
    with open(os.path.join(keep, f"{index}.yaml"), "w", newline="") as f:
        f.write(text)
    return "FAILED", f"{index}: {why}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--binary", default="target/debug/kubecredcache")
    parser.add_argument("--kubectl", default=shutil.which("kubectl") or "kubectl")
    parser.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--keep", default="target/differential", help="where files that differ are kept")
    opts = parser.parse_args()
    binary = os.path.realpath(opts.binary)
    counts, reasons, failures, users = {}, {}, [], 0
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        jobs = [pool.submit(one, binary, opts.kubectl, opts.seed, i, opts.keep) for i in range(opts.count)]
        for job in jobs:
            outcome, detail = job.result()
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "FAILED":
                failures.append(detail)
            elif outcome == "setup refuses":
                reasons[detail] = reasons.get(detail, 0) + 1
            elif outcome == "wrapped":
                users += int(detail)
    print(f"seed {opts.seed}, {opts.count} files: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
          + f"; {users} users wrapped")
    for reason, n in sorted(reasons.items(), key=lambda r: -r[1]):
        print(f"  setup refuses {n}: {reason}")
    for failure in failures[:5]:
        print("FAILED " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
