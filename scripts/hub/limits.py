"""Per-student limits on the class hub (imported by jupyterhub_config.py; issue #26).

What one student can take from the class, and what is left when their server stops:

- memory: the student's server and everything it starts share one ceiling (SEQHUB_MEM_LIMIT,
  default 2G) in a control group of their own; each of their processes also has RLIMIT_DATA a
  little below it, so that an allocation past the ceiling fails in the kernel with a MemoryError
  (numpy) or RuntimeError (torch) instead of the kernel being killed; ``kernel_config`` turns that
  error into a message naming the limit. Past the group's ceiling (several processes together) the
  kernel's out-of-memory killer ends a process of that student only.
- processes: at most SEQHUB_PIDS_LIMIT (default 256) processes and threads in the group, and the
  same as RLIMIT_NPROC for the student's user (a fork past it fails with EAGAIN).
- CPU: at most SEQHUB_CPU_LIMIT cores (default 1) per student (CFS quota), and an equal share
  when the machine is busy.
- leftovers: new files are private (umask 077, so a file in /tmp or /dev/shm is the student's
  own); when the server stops (or is culled), every process still in the student's group or owned
  by the student's user is killed, and their files in /tmp, /var/tmp and /dev/shm are deleted.

The control groups are the kernel's own mechanism, used where the machine has no systemd as PID 1
(this machine and CI); cgroup v2 (one unified hierarchy) and v1 (memory, pids and cpu
controllers) are both handled. With systemd, TLJH's jupyterhub-systemdspawner sets the same
limits (docs/classroom-server.md). Without writable control groups (e.g. an unprivileged
container) the rlimits, the umask and the clean-up still apply and the hub's log says so.
"""
from __future__ import annotations

import asyncio
import os
import pwd
import re
import resource
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "seqhub"                      # the students' groups: <hub's group>/seqhub/<student>
V1_CONTROLLERS = ("memory", "pids", "cpu")
CFS_PERIOD_US = 100_000
DATA_MARGIN = 256 * 2**20             # RLIMIT_DATA = memory ceiling - this (the server's own share)
TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def parse_size(text: str) -> int:
    """'2G', '512M', '1.5g', '2048' (bytes) -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[iI]?[bB]?\s*", str(text))
    if not m:
        raise ValueError(f"a size like 2G, 512M or 2048 (bytes), got {text!r}")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def human(size: int) -> str:
    for unit, scale in (("G", 2**30), ("M", 2**20), ("K", 2**10)):
        if size >= scale:
            return f"{size / scale:g}{unit}"
    return f"{size}B"


@dataclass(frozen=True)
class Limits:
    memory: int = 2 * 2**30
    cpus: float = 1.0
    pids: int = 256

    @classmethod
    def from_env(cls, env=os.environ) -> "Limits":
        """SEQHUB_MEM_LIMIT (e.g. 2G), SEQHUB_CPU_LIMIT (cores, e.g. 1 or 0.5), SEQHUB_PIDS_LIMIT."""
        memory = parse_size(env.get("SEQHUB_MEM_LIMIT", "2G"))
        if memory < 512 * 2**20:
            raise ValueError(f"SEQHUB_MEM_LIMIT must be at least 512M (a kernel with torch needs "
                             f"about 300M), got {env.get('SEQHUB_MEM_LIMIT')!r}")
        try:
            cpus = float(env.get("SEQHUB_CPU_LIMIT", "1"))
            pids = int(env.get("SEQHUB_PIDS_LIMIT", "256"))
        except ValueError as err:
            raise ValueError(f"SEQHUB_CPU_LIMIT must be a number of cores and SEQHUB_PIDS_LIMIT a whole "
                             f"number: {err}") from None
        if not 0.05 <= cpus <= 1024:
            raise ValueError(f"SEQHUB_CPU_LIMIT must be between 0.05 and 1024 cores, got {cpus}")
        if not 32 <= pids <= 10**6:
            raise ValueError(f"SEQHUB_PIDS_LIMIT must be between 32 and 1000000 (a server with a kernel "
                             f"runs about 20 threads), got {pids}")
        return cls(memory, cpus, pids)

    @property
    def data(self) -> int:
        return max(256 * 2**20, self.memory - DATA_MARGIN)


class Cgroups:
    """The students' control groups: v2 under <root>/seqhub/<student> (the root group is exempt from
    v2's rule that a group with processes has no controlled children), v1 under the hub's own group
    of each controller."""

    def __init__(self, root: Path = CGROUP_ROOT, self_cgroup: Path = Path("/proc/self/cgroup")):
        self.root = Path(root)
        self.version = 2 if (self.root / "cgroup.controllers").is_file() else \
            1 if all((self.root / c).is_dir() for c in V1_CONTROLLERS) else 0
        self.base: dict[str, Path] = {}
        if self.version == 1:
            mine = {}
            try:
                for line in Path(self_cgroup).read_text().splitlines():
                    _, controllers, path = line.split(":", 2)
                    for ctl in controllers.split(","):
                        mine[ctl] = path
            except OSError:
                pass
            for ctl in V1_CONTROLLERS:
                self.base[ctl] = self.root / ctl / mine.get(ctl, "/").lstrip("/") / GROUP
        elif self.version == 2:
            self.base["unified"] = self.root / GROUP

    def paths(self, name: str) -> dict[str, Path]:
        return {ctl: base / name for ctl, base in self.base.items()}

    def create(self, name: str, limits: Limits) -> dict[str, Path]:
        """Make (or reuse) the student's groups with ``limits``; OSError if the groups are not writable."""
        paths = self.paths(name)
        if self.version == 2:
            for parent in (self.root, self.root / GROUP):
                parent.mkdir(exist_ok=True)
                _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
            p = paths["unified"]
            p.mkdir(exist_ok=True)
            _write(p / "memory.max", str(limits.memory))
            if (p / "memory.swap.max").exists():
                _write(p / "memory.swap.max", "0")
            _write(p / "pids.max", str(limits.pids))
            _write(p / "cpu.max", f"{int(limits.cpus * CFS_PERIOD_US)} {CFS_PERIOD_US}")
        elif self.version == 1:
            for ctl, p in paths.items():
                p.mkdir(parents=True, exist_ok=True)
            _write(paths["memory"] / "memory.limit_in_bytes", str(limits.memory))
            if (paths["memory"] / "memory.memsw.limit_in_bytes").exists():
                _write(paths["memory"] / "memory.memsw.limit_in_bytes", str(limits.memory))
            _write(paths["pids"] / "pids.max", str(limits.pids))
            _write(paths["cpu"] / "cpu.cfs_period_us", str(CFS_PERIOD_US))
            _write(paths["cpu"] / "cpu.cfs_quota_us", str(int(limits.cpus * CFS_PERIOD_US)))
        else:
            raise OSError("no cgroup v2 hierarchy and no v1 memory, pids and cpu controllers under "
                          f"{self.root}")
        return paths

    @staticmethod
    def enter(paths: dict[str, Path], pid: int = 0) -> None:
        """Move ``pid`` (0: this process) into the groups (runs in the spawned child, before exec)."""
        for p in paths.values():
            _write(p / "cgroup.procs", str(pid or os.getpid()))

    @staticmethod
    def pids(paths: dict[str, Path]) -> set[int]:
        found = set()
        for p in paths.values():
            try:
                found |= {int(x) for x in (p / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def kill_and_remove(self, name: str, timeout: float = 10.0) -> set[int]:
        """Kill every process in the student's groups, wait until they are gone, remove the groups.
        Returns the pids that were killed."""
        paths = self.paths(name)
        killed = _kill_until_gone(lambda: self.pids(paths), timeout)
        for p in paths.values():
            try:
                p.rmdir()
            except OSError:
                pass
        return killed


def _kill_until_gone(find, timeout: float) -> set[int]:
    """SIGKILL the pids ``find()`` returns (never this process) until it returns none or
    ``timeout`` s have passed; the pids that were killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = find() - {os.getpid()}
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return killed


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def uid_pids(uid: int) -> set[int]:
    """Every process whose real or effective uid is ``uid`` (from /proc)."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        real, effective = (int(x) for x in line.split()[1:3])
                        if uid in (real, effective):
                            found.add(int(entry.name))
                        break
        except (OSError, ValueError):
            pass
    return found


def kill_user(uid: int, timeout: float = 10.0) -> set[int]:
    """SIGKILL every process of ``uid`` until none is left (a detached one included)."""
    if uid == 0:
        raise ValueError("refusing to kill the processes of root")
    return _kill_until_gone(lambda: uid_pids(uid), timeout)


def remove_temp_files(uid: int, dirs=TEMP_DIRS) -> list[str]:
    """Delete what ``uid`` owns at the top of the shared temporary folders (recursively)."""
    if uid == 0:
        raise ValueError("refusing to delete the files of root")
    removed = []
    for top in dirs:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for e in entries:
            try:
                if e.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if e.is_dir(follow_symlinks=False):
                    shutil.rmtree(e.path, ignore_errors=True)
                else:
                    os.unlink(e.path)
                removed.append(e.path)
            except OSError:
                pass
    return removed


def preexec(paths: dict[str, Path] | None, limits: Limits, then):
    """The function the spawned server runs before exec, as root: into the student's groups, the
    rlimits, the private umask; then ``then`` (JupyterHub's switch to the student's user)."""
    def run():
        if paths:
            Cgroups.enter(paths)
        resource.setrlimit(resource.RLIMIT_DATA, (limits.data, limits.data))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids, limits.pids))
        os.umask(0o077)
        then()
    return run


def make_spawner_class(limits: Limits, log=print):
    """A LocalProcessSpawner with the limits above (see the module's docstring)."""
    from jupyterhub.spawner import LocalProcessSpawner

    groups = Cgroups()

    class LimitedSpawner(LocalProcessSpawner):
        cgroup_paths: dict | None = None

        def make_preexec_fn(self, name):
            return preexec(self.cgroup_paths, limits, super().make_preexec_fn(name))

        async def start(self):
            name = self.user.name
            # leftovers of a server that died without a stop (a hub restart, a crash)
            await asyncio.get_running_loop().run_in_executor(None, self._clean, name)
            try:
                self.cgroup_paths = groups.create(name, limits)
            except OSError as err:
                self.cgroup_paths = None
                self.log.warning("per-student control groups unavailable (%s): %s keeps the rlimits "
                                 "(memory per process %s, %d processes) without a shared ceiling",
                                 err, name, human(limits.data), limits.pids)
            self.environment = {**self.environment, "SEQHUB_MEM_LIMIT": human(limits.memory),
                                "SEQHUB_CPU_LIMIT": f"{limits.cpus:g}", "SEQHUB_PIDS_LIMIT": str(limits.pids)}
            return await super().start()

        async def stop(self, now=False):
            await super().stop(now=now)
            # (off the hub's event loop: the kill loop waits for the processes to go)
            await asyncio.get_running_loop().run_in_executor(None, self._clean, self.user.name)

        def _clean(self, name):
            try:
                user = pwd.getpwnam(name)
            except KeyError:
                return
            uid = user.pw_uid
            killed = groups.kill_and_remove(name) if groups.version else set()
            if uid != 0:
                killed |= kill_user(uid)
                # the shared temporary folders, and the private TMPDIR the hub gives each student
                removed = remove_temp_files(uid, (*TEMP_DIRS, os.path.join(user.pw_dir, ".tmp")))
            else:
                removed = []
            if killed or removed:
                self.log.info("%s: stopped; killed %d leftover processes, removed %d temporary files",
                              name, len(killed), len(removed))

    return LimitedSpawner


KERNEL_CONFIG = '''\
# Written by scripts/hub/limits.py (the class hub): in a student's kernel on the hub (where
# SEQHUB_MEM_LIMIT is set), an allocation past the memory ceiling says which ceiling it hit.
import os as _os

if _os.environ.get("SEQHUB_MEM_LIMIT"):
    c.InteractiveShellApp.exec_lines = [
        "def _seqhub_memory(shell, etype, value, tb, tb_offset=None):\\n"
        "    import os\\n"
        "    text = str(value)\\n"
        "    if issubclass(etype, MemoryError) or 'allocate memory' in text:\\n"
        "        limit = os.environ.get('SEQHUB_MEM_LIMIT', '?')\\n"
        "        print(f'【内存上限】这台课程服务器给每个学生 {limit} 内存，这一步要的超过了它（' + type(value).__name__ + '）。'\\n"
        "              f'把数据或批次变小再试；内核还在，前面的变量都还在。\\\\n'\\n"
        "              f'[memory limit] Each student has {limit} of memory on this class server; this step asked for more.')\\n"
        "    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)\\n"
        "get_ipython().set_custom_exc((MemoryError, RuntimeError), _seqhub_memory)\\n"
        "del _seqhub_memory",
    ]
'''


def write_kernel_config(venv: Path) -> Path:
    """<venv>/etc/ipython/ipython_kernel_config.py (IPython reads it for every kernel of the venv;
    it does something only where SEQHUB_MEM_LIMIT is set, i.e. in a student's server)."""
    path = Path(venv) / "etc" / "ipython" / "ipython_kernel_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != KERNEL_CONFIG:
        path.write_text(KERNEL_CONFIG)
    path.chmod(0o644)
    return path
