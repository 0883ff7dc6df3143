"""Distributing the course with nbgitpuller links on the class hub (docs/classroom-server.md).

A real hub on 127.0.0.1 (free ports, own state folder, the default shared-password mode), one
temporary system user, and a LOCAL course repository made here (two notebooks, a file path, in
SEQHUB_COURSE_REPOS so that the student's git may read the teacher's repository). The student
clicks the link /hub/user-redirect/git-pull?repo=...&branch=...&urlpath=...: the hub sends them to
their own server's nbgitpuller page, whose event stream (what the page's JavaScript opens) clones
the course into their home, owned by them. The student edits a notebook; the teacher commits an
update that changes the same notebook, another one, and adds a third; a second click merges the
update: the student's edit stays, the other changes and the new notebook arrive.
"""
import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import nbformat

from hubtools import Client, Hub, accounts, hub_env, need_hub, temp_dir, temp_users


def notebook(*cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(cells[0])] + [nbformat.v4.new_code_cell(c)
                                                           for c in cells[1:]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Teacher",
                           "-c", "user.email=teacher@example.invalid", *args],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def pull(student: Client, repo: Path, limit: float = 180) -> list[dict]:
    """What the nbgitpuller page does in the browser: open the sync event stream, read to the end."""
    params = {"repo": str(repo), "branch": "main", "targetpath": "course"}
    r = student.api("GET", f"/user/{student.name}/git-pull/api?{urlencode(params)}", stream=True,
                    timeout=limit)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    events, t0 = [], time.monotonic()
    for line in r.iter_lines(decode_unicode=True):
        if line and line.startswith("data: "):
            events.append(json.loads(line[len("data: "):]))
            if events[-1].get("phase") in ("finished", "error"):
                break
        assert time.monotonic() - t0 < limit, "nbgitpuller did not finish"
    r.close()
    assert events and events[-1]["phase"] == "finished", events[-3:]
    return events


def test_nbgitpuller_link_pulls_the_course_and_merges_updates():
    need_hub()
    t_start = time.monotonic()
    with temp_dir("seqhub-pull-") as base, temp_users(1, base) as (name,), \
            accounts.other_x_granted():
        upstream = base / "seqcourse-student"
        upstream.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(upstream)], check=True)
        (upstream / "01_intro.ipynb").write_text(notebook("# 第一章", "x = 1\nprint(x)"))
        (upstream / "02_rnn.ipynb").write_text(notebook("# 第二章", "h = 0"))
        git(upstream, "add", "-A")
        git(upstream, "commit", "-qm", "course, first version")
        subprocess.run(["chmod", "-R", "o+rX", str(upstream)], check=True)

        password = secrets.token_urlsafe(12)
        env = hub_env(base / "state", SEQHUB_PASSWORD=password, SEQHUB_USERS=name,
                      SEQHUB_COURSE_REPOS=str(upstream))
        base_url = f"http://127.0.0.1:{env['SEQHUB_PORT']}"
        hub = Hub(env, base / "hub.log")
        try:
            hub.start(base_url)
            s = Client(base_url)
            assert s.login(name, password)
            s.get_token()
            ready_s = s.start_server()
            # the link the teacher hands out
            link = ("/hub/user-redirect/git-pull?" + urlencode(
                {"repo": str(upstream), "branch": "main",
                 "urlpath": "lab/tree/course/01_intro.ipynb", "targetpath": "course"},
                quote_via=quote))
            r = s.get(link, allow_redirects=False)
            assert r.status_code in (302, 303), (r.status_code, r.text[:200])
            # (to the server, or through /hub/spawn/NAME?next=..., which starts it if needed)
            assert r.headers["Location"].startswith((f"/user/{name}/git-pull?",
                                                     f"/hub/spawn/{name}?next=%2Fuser%2F{name}%2Fgit-pull")), r.headers
            page = s.get(link)                       # follows on, through the hub's OAuth
            assert page.status_code == 200, (page.status_code, page.text[:300])
            assert page.url.startswith(f"{base_url}/user/{name}/git-pull?"), page.url
            assert "git-pull/api" in page.text or "nbgitpuller" in page.text.lower(), page.text[:300]
            t0 = time.monotonic()
            pull(s, upstream)
            first_s = time.monotonic() - t0
            home = Path(accounts.pwd.getpwnam(name).pw_dir)
            course = home / "course"
            assert sorted(p.name for p in course.glob("*.ipynb")) == ["01_intro.ipynb",
                                                                      "02_rnn.ipynb"]
            uid = accounts.pwd.getpwnam(name).pw_uid
            assert all(p.stat().st_uid == uid for p in course.rglob("*")), "not the student's"
            # the student edits chapter 1 in JupyterLab (the contents API, as a save does)
            r = s.server("GET", "contents/course/01_intro.ipynb")
            nb = r.json()["content"]
            nb["cells"][1]["source"] = "x = 1\nprint(x)\n# 我自己的笔记：x 是输入"
            r = s.server("PUT", "contents/course/01_intro.ipynb",
                         json={"type": "notebook", "format": "json", "content": nb})
            assert r.status_code == 200, r.text[:200]
            # the teacher's update: the same cell of chapter 1, chapter 2, and a new chapter 3
            (upstream / "01_intro.ipynb").write_text(notebook("# 第一章", "x = 2\nprint(x)"))
            (upstream / "02_rnn.ipynb").write_text(notebook("# 第二章（修订）", "h = 0\nh = h + 1"))
            (upstream / "03_lstm.ipynb").write_text(notebook("# 第三章", "c = 0"))
            git(upstream, "add", "-A")
            git(upstream, "commit", "-qm", "course, update")
            subprocess.run(["chmod", "-R", "o+rX", str(upstream)], check=True)
            t0 = time.monotonic()
            pull(s, upstream)                        # the second click
            second_s = time.monotonic() - t0
            ch1 = json.loads((course / "01_intro.ipynb").read_text())
            ch2 = json.loads((course / "02_rnn.ipynb").read_text())
            assert "我自己的笔记" in "".join(ch1["cells"][1]["source"]), "the student's edit was lost"
            assert "第二章（修订）" in "".join(ch2["cells"][0]["source"]), "the update did not arrive"
            assert (course / "03_lstm.ipynb").exists(), "the new notebook did not arrive"
            log = subprocess.run(["git", "-C", str(course), "-c", f"safe.directory={course}",
                                  "log", "--format=%s"], capture_output=True, text=True).stdout
            assert "course, update" in log, log
            print(f"server ready in {ready_s:.1f} s; first pull {first_s:.1f} s, second (merge) "
                  f"{second_s:.1f} s; whole test {time.monotonic() - t_start:.1f} s")
        except BaseException:
            print(hub.log(60))
            raise
        finally:
            hub.stop()
