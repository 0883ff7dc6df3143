"""What one system user can read that holds a graded answer: walk the machine's files with that
user's permissions and report every readable file that contains a secret line.

Run as the user to check (tests/test_homework_cycle.py and tests/test_readscan.py do):

    runuser -u STUDENT -- .venv/bin/python readscan.py < job.json > result.json

job.json: {"secrets": [lines], "since": epoch seconds, "roots": ["/", folders known by name],
           "skip_trees": [folders],
           "keep_in_skipped": [substrings], "full_trees": [folders], "watch": [paths]}; for each watched path the result
says whether this user could open it ("read", "denied" or "absent"), so that a test can show the
scan was not vacuous. The secrets arrive on stdin, so that no file this
user may read has to hold them. Standard library only (the course's helpers are closed to students).

- a line counts when its whitespace-collapsed text occurs in a file's whitespace-collapsed text;
  notebooks (JSON) are also searched in their decoded strings, HTML pages in their visible text
  (tags out, entities decoded), so escaping or syntax highlighting hides nothing;
- git repositories this user can read are searched object by object (`git cat-file
  --batch-all-objects`: the history and packed objects too, not only the work tree), those under
  `full_trees` and those whose objects folder changed at or after `since`;
- files are read when their ctime is at or after `since` (a file created before a moment cannot
  hold what was written after it, and nobody can set a ctime back), or when they lie under one of
  `full_trees` (read whatever their age); up to 4 MB, not compiled or image/archive files (listed
  as not read when large);
- `skip_trees`: folders only root can write (the course's venv: interpreter, packages, JupyterLab's
  static files) read only where a path contains one of `keep_in_skipped` (an installed copy of
  helpers, a .pth file, anything named seqcourse).
/proc and /sys are not walked.
"""
from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys

LIMIT = 4 * 2**20
BINARY = (".so", ".pyc", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".ttf", ".otf",
          ".pt", ".pth.tar", ".npz", ".npy", ".gz", ".bz2", ".xz", ".zip", ".whl", ".a", ".o", ".mo",
          ".svg", ".ico", ".sqlite-journal")


def norm(text: str) -> str:
    return " ".join(text.split())


def strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def views(path: str, raw: bytes) -> list[str]:
    text = raw.decode("utf-8", errors="ignore")
    out = [text]
    if path.endswith(".ipynb") or text.lstrip().startswith("{"):
        try:
            out.append("\n".join(strings(json.loads(text))))
        except ValueError:
            pass
    if path.endswith((".html", ".htm")) or "<html" in text[:2000].lower():
        body = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
        out.append(html.unescape(re.sub(r"<[^>]+>", "", body)))
    return out


def found_in(texts: list[str], secrets: list[str]) -> list[str]:
    flat = [norm(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", t)) for t in texts]
    return [s for s in secrets if any(s in f for f in flat)]


def git_objects(repo: str) -> bytes:
    env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory",
           "GIT_CONFIG_VALUE_0": "*", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", "--git-dir", repo, "cat-file", "--batch-all-objects", "--batch"],
                              capture_output=True, env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return b""
    return proc.stdout if proc.returncode == 0 else b""


def scan(job: dict) -> dict:
    secrets = [norm(s) for s in job["secrets"] if norm(s)]
    since = float(job.get("since", 0))
    skip = [os.path.realpath(p) for p in job.get("skip_trees", [])]
    full = [os.path.realpath(p) for p in job.get("full_trees", [])]
    keep = job.get("keep_in_skipped", [])
    result = {"user": os.getuid(), "files_read": 0, "bytes_read": 0, "found": [], "too_large": [],
              "git_repos": []}
    seen: set[str] = set()
    for root in job.get("roots", ["/"]):
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            if dirpath in seen:            # reached from an earlier root already
                dirnames[:] = []
                continue
            seen.add(dirpath)
            if dirpath.startswith(("/proc", "/sys")) and dirpath.split("/")[1] in ("proc", "sys"):
                dirnames[:] = []
                continue
            any_age = any(dirpath == f or dirpath.startswith(f + "/") for f in full)
            if os.path.basename(dirpath) == ".git" or (os.path.isdir(os.path.join(dirpath, "objects"))
                                                      and os.path.isfile(os.path.join(dirpath, "HEAD"))):
                try:       # a repository that got no object since `since` holds nothing newer
                    fresh = any_age or os.stat(os.path.join(dirpath, "objects")).st_ctime >= since
                except OSError:
                    fresh = False
                if fresh and os.access(dirpath, os.R_OK | os.X_OK):
                    data = git_objects(dirpath)
                    result["git_repos"].append(dirpath)
                    for s in found_in([data.decode("utf-8", errors="ignore")], secrets):
                        result["found"].append({"path": dirpath + " (git objects)", "line": s,
                                                "uid": os.stat(dirpath).st_uid})
            skipped = any(dirpath == s or dirpath.startswith(s + "/") for s in skip)
            for name in filenames:
                path = os.path.join(dirpath, name)
                if skipped and not any(k in path for k in keep):
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or (st.st_ctime < since and not any_age) \
                        or name.endswith(BINARY):
                    continue
                if st.st_size > LIMIT:
                    if os.access(path, os.R_OK):
                        result["too_large"].append(path)
                    continue
                try:
                    with open(path, "rb") as fh:
                        raw = fh.read(LIMIT + 1)
                except OSError:
                    continue            # not readable by this user: what we want
                result["files_read"] += 1
                result["bytes_read"] += len(raw)
                for s in found_in(views(path, raw), secrets):
                    result["found"].append({"path": path, "line": s, "uid": st.st_uid})
    result["watch"] = {}
    for path in job.get("watch", []):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            result["watch"][path] = "read"
        except FileNotFoundError:
            result["watch"][path] = "absent"
        except OSError:
            result["watch"][path] = "denied"
    return result


if __name__ == "__main__":
    print(json.dumps(scan(json.load(sys.stdin)), ensure_ascii=False))
