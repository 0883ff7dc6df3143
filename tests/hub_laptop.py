"""The "student laptop" of tests/test_hub_tls.py: run inside the laptop's network namespace
(`ip netns exec <laptop> .venv/bin/python tests/hub_laptop.py STEP SPEC.json`), it talks to the
hub only over the test's veth link, as a browser and JupyterLab would, and prints one JSON line
with what it saw. Steps:
  wait      poll https://HOST:PORT/hub/health (certificate not yet trusted) until it answers
  plain     a plain-HTTP request to the HTTPS port (must not be served)
  session   fetch the certificate, compare its SHA-256 fingerprint with the one the teacher
            printed, then (trusting only that certificate): the student signs up, the teacher
            approves, the student logs in, starts the server, opens JupyterLab, runs a cell in a
            kernel over the websocket, and fetches, edits and submits the nbgrader assignment by
            running nbgrader's own commands in that kernel
"""
from __future__ import annotations

import json
import ssl
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hubtools import Client  # noqa: E402


def wait(spec: dict) -> dict:
    import requests
    import urllib3
    urllib3.disable_warnings()
    http = requests.Session()
    http.trust_env = False          # no proxy from the environment: only the test's link
    t0 = time.monotonic()
    while time.monotonic() - t0 < spec.get("limit", 150):
        try:
            if http.get(f"{spec['base']}/hub/health", verify=False, timeout=5).status_code == 200:
                return {"up_after_s": time.monotonic() - t0}
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return {"up_after_s": None}


def plain(spec: dict) -> dict:
    import requests
    url = f"http://{spec['host']}:{spec['port']}/hub/login"
    try:
        http = requests.Session()
        http.trust_env = False
        r = http.get(url, timeout=10, allow_redirects=False)
        return {"status": r.status_code, "served": "JupyterHub" in r.text or "_xsrf" in r.text,
                "location": r.headers.get("Location", "")}
    except requests.RequestException as exc:
        return {"status": None, "served": False, "error": type(exc).__name__}


def session(spec: dict) -> dict:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    out: dict = {}
    pem = ssl.get_server_certificate((spec["host"], spec["port"]))
    cert = x509.load_pem_x509_certificate(pem.encode())
    out["fingerprint"] = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    if out["fingerprint"] != spec["fingerprint"]:
        return out                  # a student stops here: not the teacher's hub
    pinned = Path(spec["workdir"]) / "hub-cert.pem"
    pinned.write_text(pem)
    base, verify = f"https://{spec['host']}:{spec['port']}", str(pinned)
    name, pw = spec["student"], spec["student_password"]

    student = Client(base, verify=verify)
    out["signup"] = student.signup(name, pw)
    out["login_before_approval"] = student.login(name, pw)
    teacher = Client(base, verify=verify)
    out["teacher_login"] = teacher.login(spec["teacher"], spec["teacher_password"])
    r = teacher.get(f"/hub/authorize/{name}", allow_redirects=False)
    out["approve_status"] = r.status_code
    out["login"] = student.login(name, pw)
    out["cookie_secure"] = all(c.secure for c in student.http.cookies
                               if c.name.startswith("jupyterhub"))
    student.get_token()
    out["server_ready_s"] = student.start_server()
    r = student.get(f"/user/{name}/lab")           # follows the hub's OAuth redirects
    out["lab_status"], out["lab_url"] = r.status_code, r.url
    out["lab_is_jupyterlab"] = "JupyterLab" in r.text or "jupyter-config-data" in r.text
    kernel = student.kernel("tls_probe.ipynb")
    try:
        reply, text = kernel.run("import os, socket\nprint('sum', 6 * 7, os.getuid())")
        out["cell"] = {"status": reply["status"], "stdout": text}
        ex, course = spec["exchange"], spec["course"]
        flags = f"'--Exchange.root={ex}', '--CourseDirectory.course_id={course}'"
        code = (
            "import json, subprocess\n"
            "def nbg(*args):\n"
            f"    r = subprocess.run(['nbgrader', *args, {flags}], capture_output=True, text=True)\n"
            "    print('RC', args[0], r.returncode)\n"
            "    print(r.stdout[-800:], r.stderr[-800:])\n"
            f"nbg('fetch_assignment', {spec['assignment']!r})\n"
            f"p = {spec['assignment']!r} + '/' + {spec['assignment']!r} + '.ipynb'\n"
            "nb = json.load(open(p))\n"
            "for cell in nb['cells']:\n"
            "    if 'YOUR CODE HERE' in ''.join(cell['source']):\n"
            "        cell['source'] = 'answer = 42  # my own answer\\n'\n"
            "json.dump(nb, open(p, 'w'))\n"
            f"nbg('submit', {spec['assignment']!r})\n")
        reply, text = kernel.run(code, limit=240)
        out["nbgrader"] = {"status": reply["status"], "stdout": text}
        out["hostile"] = hostile_review(student, teacher, name, kernel)
        # nothing changed: the student is still approved, their server still runs
        out["hostile"]["still_approved"] = Client(base, verify=verify).login(name, pw)
        out["hostile"]["server_still_up"] = student.server("GET", "status").status_code == 200
    finally:
        kernel.close()
    return out


HOSTILE_MARK = "seq-hostile-7c1e"


def hostile_review(student, teacher, name, kernel) -> dict:
    """The student writes a notebook whose markdown image un-approves the teacher's own account
    and whose output script would delete a server and change a password; the teacher then tries
    every way of opening it in the student's server (the admin page's "access server" link, the
    lab, the file, the contents API). Returns what the teacher got back."""
    code = (
        "import json\n"
        f"img = '<img src=\\'/hub/authorize/{name}\\'> {HOSTILE_MARK}'\n"
        f"js = ('<script>fetch(\\'/hub/api/users/{name}/server\\', {{method: \\'DELETE\\'}});'\n"
        "      'fetch(\\'/hub/change-password\\', {method: \\'POST\\'})</script>')\n"
        "nb = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, 'cells': [\n"
        "    {'cell_type': 'markdown', 'id': 'a', 'metadata': {}, 'source': img},\n"
        "    {'cell_type': 'code', 'id': 'b', 'metadata': {}, 'execution_count': 1, 'source': '',\n"
        "     'outputs': [{'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': js}}]}]}\n"
        "json.dump(nb, open('hostile.ipynb', 'w'))\n"
        "print('written')\n")
    reply, text = kernel.run(code)
    seen = {"written": "written" in text}
    tries = {"server": f"/user/{name}/", "lab": f"/user/{name}/lab/tree/hostile.ipynb",
             "file": f"/user/{name}/files/hostile.ipynb", "raw": f"/user/{name}/api/contents/hostile.ipynb"}
    seen["teacher"] = {}
    for key, path in tries.items():
        r = teacher.get(path)                       # a browser: every redirect followed
        seen["teacher"][key] = {"status": r.status_code, "url": r.url, "marked": HOSTILE_MARK in r.text}
    r = teacher.get("/hub/admin")
    seen["admin_page"] = r.status_code
    # the student still sees their own notebook (the attempt is really there to be refused)
    r = student.server("GET", "contents/hostile.ipynb")
    seen["student_sees_it"] = r.status_code == 200 and HOSTILE_MARK in r.text
    return seen


def main(argv: list[str]) -> int:
    step, spec = argv[0], json.loads(Path(argv[1]).read_text())
    result = {"wait": wait, "plain": plain, "session": session}[step](spec)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
