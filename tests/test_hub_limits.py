"""The class hub's per-student limits (scripts/hub/limits.py), piece by piece on this machine:
sizes and settings, the control groups (v1 and v2 layouts in a folder, and the machine's real
ones when writable), the rlimits and umask in a spawned child, the clean-up after a server stops
(a detached process, files in /tmp and /dev/shm) and the kernel's message at the memory ceiling.
The same limits on the real hub with three students: tests/test_hub_limits_class.py."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "hub"))
import limits as L  # noqa: E402


@pytest.mark.parametrize("text, size", [("2G", 2 * 2**30), ("512M", 512 * 2**20), ("1.5g", int(1.5 * 2**30)),
                                        ("2048", 2048), ("2GiB", 2 * 2**30), (" 64k ", 64 * 2**10)])
def test_sizes(text, size):
    assert L.parse_size(text) == size


@pytest.mark.parametrize("env, message", [({"SEQHUB_MEM_LIMIT": "lots"}, "like 2G"),
                                          ({"SEQHUB_MEM_LIMIT": "100M"}, "at least 512M"),
                                          ({"SEQHUB_CPU_LIMIT": "two"}, "number of cores"),
                                          ({"SEQHUB_CPU_LIMIT": "0"}, "between 0.05"),
                                          ({"SEQHUB_PIDS_LIMIT": "5"}, "between 32")])
def test_bad_settings_say_what_was_expected(env, message):
    with pytest.raises(ValueError, match=message):
        L.Limits.from_env(env)


def test_defaults():
    lim = L.Limits.from_env({})
    assert (lim.memory, lim.cpus, lim.pids) == (2 * 2**30, 1.0, 256)
    assert lim.data == 2 * 2**30 - 256 * 2**20


def _fake_v1(tmp_path):
    for ctl in ("memory", "pids", "cpu"):
        (tmp_path / ctl / "hub").mkdir(parents=True)
    cg = tmp_path / "self_cgroup"
    cg.write_text("4:memory:/hub\n3:pids:/\n2:cpu,cpuacct:/\n0::/\n")
    return L.Cgroups(tmp_path, cg)


def test_v1_layout(tmp_path):
    groups = _fake_v1(tmp_path)
    assert groups.version == 1
    paths = groups.create("ana", L.Limits(memory=2**30, cpus=0.5, pids=64))
    assert paths["memory"] == tmp_path / "memory" / "hub" / "seqhub" / "ana"     # under the hub's own group
    assert (paths["memory"] / "memory.limit_in_bytes").read_text() == str(2**30)
    assert (paths["pids"] / "pids.max").read_text() == "64"
    assert (paths["cpu"] / "cpu.cfs_quota_us").read_text() == "50000"
    assert (paths["cpu"] / "cpu.cfs_period_us").read_text() == "100000"


def test_v2_layout(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    groups = L.Cgroups(tmp_path)
    assert groups.version == 2
    paths = groups.create("ben", L.Limits(memory=2**30, cpus=1.0, pids=128))
    p = paths["unified"]
    assert p == tmp_path / "seqhub" / "ben"
    assert (p / "memory.max").read_text() == str(2**30)
    assert (p / "pids.max").read_text() == "128"
    assert (p / "cpu.max").read_text() == "100000 100000"
    assert (tmp_path / "seqhub" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_no_cgroups_is_an_oserror(tmp_path):
    groups = L.Cgroups(tmp_path)
    assert groups.version == 0
    with pytest.raises(OSError, match="no cgroup"):
        groups.create("cai", L.Limits())


def _root_only():
    if os.geteuid() != 0:
        pytest.skip("needs root (CI runs as root)")


@pytest.fixture(autouse=True)
def _python_reachable_by_others():
    """The children below run the venv's Python as another user: the folders on the way to it
    (e.g. /root for pyenv) must let other users pass, as for the test hubs."""
    if os.geteuid() != 0:
        yield
        return
    import students
    with students.other_x_granted():
        yield


UID = 64999          # no account needs to exist for these checks


def _spawn_as_student(code: str, paths=None, lim=L.Limits(memory=768 * 2**20, cpus=1.0, pids=64)):
    """A child started the way the hub starts a server: limits.preexec, then the switch to UID."""
    def become():
        os.setgid(UID)
        os.setuid(UID)
    return subprocess.Popen([sys.executable, "-c", code], preexec_fn=L.preexec(paths, lim, become),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")


def test_the_child_has_the_rlimits_and_a_private_umask():
    _root_only()
    code = textwrap.dedent("""
        import os, resource
        print(resource.getrlimit(resource.RLIMIT_DATA)[0], resource.getrlimit(resource.RLIMIT_NPROC)[0])
        old = os.umask(0); print(oct(old))
        try:
            bytearray(900 * 2**20)
            print("allocated")
        except MemoryError:
            print("MemoryError")
    """)
    out, err = _spawn_as_student(code).communicate(timeout=60)
    data, nproc, umask, alloc = out.split()
    assert int(data) == 512 * 2**20 and int(nproc) == 64 and umask == "0o77", (out, err)
    assert alloc == "MemoryError"          # an allocation past the ceiling fails in the process


def test_real_cgroups_hold_memory_and_processes_and_the_cleanup_kills_a_detached_process(tmp_path):
    _root_only()
    groups = L.Cgroups()
    name = f"seqlimits{os.getpid()}"
    try:
        paths = groups.create(name, L.Limits(memory=600 * 2**20, cpus=1.0, pids=40))
    except OSError as err:
        pytest.skip(f"no writable control groups here: {err}")
    try:
        # a detached grandchild (setsid, double fork) survives its parent: the clean-up must find it
        code = textwrap.dedent("""
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.closerange(0, 3)
                    time.sleep(600)
                os._exit(0)
            time.sleep(0.5)
            n = 0
            try:
                for _ in range(100):
                    if os.fork() == 0:
                        os.closerange(0, 3); time.sleep(30); os._exit(0)
                    n += 1
            except OSError as e:
                print("fork refused after", n, e.errno)
        """)
        child = _spawn_as_student(code, paths, L.Limits(memory=600 * 2**20, cpus=1.0, pids=40))
        out, err = child.communicate(timeout=60)
        assert "fork refused after" in out, (out, err)
        assert int(out.split()[3]) < 40
        assert L.Cgroups.pids(paths), "the detached process should still be alive in the group"
        assert L.uid_pids(UID)
    finally:
        killed = groups.kill_and_remove(name)
        L.kill_user(UID)
    assert killed and not L.uid_pids(UID)
    assert not any(p.exists() for p in paths.values())


def test_temporary_files_of_the_student_are_removed_and_others_kept(tmp_path):
    _root_only()
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    (mine / "sub").mkdir(parents=True)
    (mine / "sub" / "f").write_text("x")
    theirs.write_text("y")
    shm = tmp_path / "big"
    shm.write_bytes(b"0" * 1024)
    for p in (mine, mine / "sub", mine / "sub" / "f", shm):
        os.chown(p, UID, UID)
    removed = L.remove_temp_files(UID, dirs=[str(tmp_path)])
    assert sorted(removed) == sorted([str(mine), str(shm)])
    assert theirs.exists() and not mine.exists() and not shm.exists()
    with pytest.raises(ValueError, match="root"):
        L.remove_temp_files(0, dirs=[str(tmp_path)])


def test_the_kernels_message_names_the_limit(tmp_path):
    """The IPython config the hub writes, run in a real kernel process with SEQHUB_MEM_LIMIT set
    (and RLIMIT_DATA, as on the hub): the allocation fails, the message names the limit, the
    kernel goes on."""
    _root_only()
    venv = tmp_path / "venv"
    path = L.write_kernel_config(venv)
    code = textwrap.dedent(f"""
        from traitlets.config import Config
        from IPython.core.interactiveshell import InteractiveShell
        c = Config()
        exec(open({str(path)!r}).read(), {{"c": c}})
        shell = InteractiveShell.instance()
        for line in c.InteractiveShellApp.exec_lines:
            shell.run_cell(line, store_history=False)
        r = shell.run_cell("import numpy as np; x = np.zeros(400_000_000)")
        print("failed:", type(r.error_in_exec).__name__)
        r = shell.run_cell("import torch; y = torch.zeros(400_000_000)")
        print("failed:", type(r.error_in_exec).__name__)
        r = shell.run_cell("raise RuntimeError('something else')")
        print("after:", shell.run_cell("1 + 1").result)
    """)
    env = {**os.environ, "SEQHUB_MEM_LIMIT": "768M"}
    lim = L.Limits(memory=768 * 2**20, cpus=1.0, pids=64)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: __import__("resource").setrlimit(
                              __import__("resource").RLIMIT_DATA, (lim.data, lim.data)))
    out = proc.stdout + proc.stderr
    assert out.count("【内存上限】") == 2 and "768M" in out, out
    assert "failed: MemoryError" in out and "failed: RuntimeError" in out, out
    assert "something else" in out and out.count("【内存上限】") == 2      # other errors as before
    assert "after: 2" in out, out
    # without SEQHUB_MEM_LIMIT (a laptop, the grading kernel) the config does nothing
    c = {}
    from traitlets.config import Config
    cfg = Config()
    env_before = os.environ.pop("SEQHUB_MEM_LIMIT", None)
    try:
        exec(path.read_text(), {"c": cfg})
    finally:
        if env_before is not None:
            os.environ["SEQHUB_MEM_LIMIT"] = env_before
    assert "exec_lines" not in cfg.InteractiveShellApp
