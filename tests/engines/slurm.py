"""A real SLURM behind a real sshd, on 127.0.0.1, for the ``slurm-job`` wrapper's tests.

:func:`slurm_cluster` starts munged, slurmctld, slurmd (one node, named like this machine, two CPUs) and an sshd
that accepts one generated client key, everything under a temporary folder and on free non-default ports, and
stops them again (jobs are cancelled before slurmd stops, or slurmd would leave their processes behind).
:func:`module_fixture` wraps it as a module-scoped pytest fixture. The packages come from
``tests/engines/install_slurm.sh`` (run on first use; ``make test`` runs it too).

Why each setting of the generated configuration is there:

- ``SlurmctldHost`` is ``hostname -s``: slurmctld only serves when it recognises itself by that name;
- ``CommunicationParameters=NoInAddrAny,NoCtldInAddrAny``: the daemons bind to 127.0.0.1, not to every address;
- ``proctrack/linuxproc`` and ``task/none``: no cgroups needed (a container rarely delegates them);
- ``MinJobAge=4``: a finished job leaves the controller's memory after 4 s; ``sbatch --wait`` polls with a
  growing interval until then, so a long MinJobAge would make every test wait;
- ``KillWait=2``: a cancelled job gets SIGKILL 2 s after SIGTERM (30 s by default);
- munge's folder is 0711: munged refuses a group- or world-writable one, and clients must reach the socket;
- the sshd has ``Subsystem sftp`` (OpenSSH 9's scp speaks SFTP) and ``SetEnv SLURM_CONF=…`` so that a login shell
  finds this cluster's commands' configuration, as on a login node.

Needs root (slurmd runs jobs as their user; sshd switches users), as the test machine gives.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
INSTALL = HERE / "install_slurm.sh"
SBIN = Path("/usr/sbin")
PARTITION = "debug"


class EngineError(RuntimeError):
    pass


def install() -> None:
    """The packages, once (the script returns at once when they are there)."""
    done = subprocess.run(["sh", str(INSTALL)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise EngineError(f"install_slurm.sh failed: {done.stderr.strip()[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Slurm:
    """A running cluster: run SLURM commands on it with :meth:`command`, log in with :attr:`secret_dir`'s key."""

    root: Path
    ssh_port: int
    user: str
    node: str
    conf: Path
    secret_dir: Path  # the Secret ``slurm-ssh`` as the runner's ``--secret`` folder: ssh-privatekey, known_hosts
    key: Path  # the client's private key (same content as secret_dir/ssh-privatekey)
    known_hosts: Path
    host: str = "127.0.0.1"
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def command(self, *argv: str, check: bool = True, timeout: float = 30) -> str:
        """A SLURM client command (squeue, scontrol, scancel, sbatch...) against this cluster; its stdout."""
        done = subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise EngineError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def jobs(self, name: str | None = None) -> list[tuple[str, str, str]]:
        """(job id, name, state) of every job the controller still knows (finished ones for MinJobAge)."""
        argv = ["squeue", "-h", "-t", "all", "-o", "%i|%j|%T"] + (["-n", name] if name else [])
        return [tuple(line.split("|", 2)) for line in self.command(*argv).splitlines() if line]  # type: ignore[misc]

    def job_field(self, job_id: str, key: str) -> str | None:
        """One ``Key=value`` of ``scontrol -o show job``; None once the controller forgot the job."""
        done = subprocess.run(["scontrol", "-o", "show", "job", job_id], env=self.env, capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            return None
        for part in done.stdout.split():
            k, _, v = part.partition("=")
            if k == key:
                return v
        return None

    def cancel_all(self) -> None:
        self.command("scancel", "--user", self.user, check=False)

    def wait_idle(self, timeout: float = 30) -> None:
        """Until no job is pending or running (a test leaves the node free for the next)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.command("squeue", "-h", "-o", "%i", check=False).strip():
                return
            time.sleep(0.2)
        raise EngineError("jobs still queued or running: " + self.command("squeue", check=False))

    # -------------------------------------------------------------------------------------------- the sshd

    def start_sshd(self) -> None:
        if "sshd" in self.processes and self.processes["sshd"].poll() is None:
            return
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation folder is compiled in
        self.processes["sshd"] = _spawn([str(SBIN / "sshd"), "-D", "-e", "-f", str(self.root / "sshd_config")],
                                        self.root / "log" / "sshd.log")
        _wait_until(lambda: _listening(self.ssh_port), 10, "sshd", self.root / "log" / "sshd.log")

    def stop_sshd(self) -> None:
        proc = self.processes.pop("sshd", None)
        if proc is not None:
            _stop(proc)

    def ssh_argv(self) -> list[str]:
        """ssh as the wrapper calls it, for a test's own look at the login node."""
        return ["ssh", "-F", "/dev/null", "-i", str(self.key), "-p", str(self.ssh_port), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "IdentitiesOnly=yes", f"{self.user}@{self.host}"]


def _spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)


def _stop(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _wait_until(ready: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ready():
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise EngineError(f"{what} did not come up in {timeout:g}s; its log ends:\n{tail}")


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def _slurm_conf(root: Path, node: str, ctld_port: int, slurmd_port: int, user: str) -> str:
    cpus = 2
    return "\n".join([
        "ClusterName=argomigrate",
        f"SlurmctldHost={node}(127.0.0.1)",
        f"SlurmctldPort={ctld_port}",
        f"SlurmdPort={slurmd_port}",
        "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny",
        f"SlurmUser={user}",
        f"SlurmdUser={user}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root}/munge/munge.socket",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/run/slurmctld.pid",
        f"SlurmdPidFile={root}/run/slurmd.pid",
        f"SlurmctldLogFile={root}/log/slurmctld.log",
        f"SlurmdLogFile={root}/log/slurmd.log",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SchedulerType=sched/backfill",
        "SchedulerParameters=sched_min_interval=0,batch_sched_delay=0",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "MpiDefault=none",
        "ReturnToService=2",
        "MinJobAge=4",
        "KillWait=2",
        "InactiveLimit=0",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "SlurmctldDebug=info",
        "SlurmdDebug=info",
        f"NodeName={node} NodeAddr=127.0.0.1 NodeHostname={node} CPUs={cpus} RealMemory=1024 State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def _sshd_config(root: Path, port: int, user: str, conf: Path) -> str:
    return "\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {root}/ssh/host_ed25519_key",
        f"PidFile {root}/run/sshd.pid",
        f"AuthorizedKeysFile {root}/ssh/authorized_keys",
        f"AllowUsers {user}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",  # the temporary folder's parents are not the user's home: skip the ownership walk
        "UsePAM no",
        "MaxStartups 50",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
        f"SetEnv SLURM_CONF={conf}",
        "LogLevel VERBOSE",
        "",
    ])


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True,
                   capture_output=True, timeout=30)


@contextmanager
def slurm_cluster(parent: Path | None = None) -> Iterator[Slurm]:
    """Start the cluster and its sshd; stop everything, whatever happens, when the block ends."""
    install()
    if os.geteuid() != 0:
        raise EngineError("the SLURM test cluster needs root (slurmd and sshd switch users)")
    root = Path(tempfile.mkdtemp(prefix="am-slurm-", dir=parent))
    root.chmod(0o755)  # jobs and the sshd read the configuration; munge's own folder is 0711
    for sub in ("state", "spool", "run", "log", "ssh", "secret", "home"):
        (root / sub).mkdir()
    (root / "munge").mkdir()
    (root / "munge").chmod(0o711)  # munged: writable by its owner only, but clients must reach the socket
    (root / "secret").chmod(0o700)
    user = getpass.getuser()
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True, check=True).stdout.strip()
    ctld_port, slurmd_port, ssh_port = free_port(), free_port(), free_port()
    conf = _write(root / "slurm.conf", _slurm_conf(root, node, ctld_port, slurmd_port, user))
    _keygen(root / "ssh" / "host_ed25519_key", "argo-migrate-test-host")
    _keygen(root / "ssh" / "client_key", "argo-migrate-test-client")
    shutil.copy(root / "ssh" / "client_key.pub", root / "ssh" / "authorized_keys")
    host_key = (root / "ssh" / "host_ed25519_key.pub").read_text().split()
    known = _write(root / "secret" / "known_hosts", f"[127.0.0.1]:{ssh_port} {host_key[0]} {host_key[1]}\n")
    key = _write(root / "secret" / "ssh-privatekey", (root / "ssh" / "client_key").read_text(), 0o600)
    _write(root / "sshd_config", _sshd_config(root, ssh_port, user, conf))
    slurm = Slurm(root, ssh_port, user, node, conf, root / "secret", key, known)
    env = slurm.env
    try:
        subprocess.run(["dd", "if=/dev/urandom", f"of={root}/munge/munge.key", "bs=1024", "count=1"],
                       check=True, capture_output=True)
        (root / "munge" / "munge.key").chmod(0o400)
        munge_log = root / "log" / "munged.log"
        slurm.processes["munged"] = _spawn(
            [str(SBIN / "munged"), "-F", f"--socket={root}/munge/munge.socket",
             f"--key-file={root}/munge/munge.key", f"--pid-file={root}/munge/munged.pid",
             f"--seed-file={root}/munge/munged.seed", f"--log-file={munge_log}"], munge_log)
        _wait_until(lambda: (root / "munge" / "munge.socket").exists(), 10, "munged", munge_log)
        ctld_log = root / "log" / "slurmctld.log"
        slurm.processes["slurmctld"] = _spawn([str(SBIN / "slurmctld"), "-D", "-i"], root / "log" / "ctld.out", env)
        _wait_until(lambda: _listening(ctld_port), 15, "slurmctld", ctld_log)
        slurmd_log = root / "log" / "slurmd.log"
        slurm.processes["slurmd"] = _spawn([str(SBIN / "slurmd"), "-D", "-N", node], root / "log" / "slurmd.out",
                                           env)
        _wait_until(lambda: slurm.command("sinfo", "-h", "-n", node, "-o", "%t", check=False).strip()
                    in ("idle", "mix", "alloc"), 20, "slurmd", slurmd_log)
        slurm.start_sshd()
        yield slurm
    finally:
        if "slurmctld" in slurm.processes:
            slurm.command("scancel", "--user", user, check=False)
            _wait_jobs_gone(slurm)
        for name in ("sshd", "slurmd", "slurmctld", "munged"):
            proc = slurm.processes.pop(name, None)
            if proc is not None:
                _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _wait_jobs_gone(slurm: Slurm, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not slurm.command("squeue", "-h", "-o", "%i", check=False).strip():
            return
        time.sleep(0.2)


def module_fixture() -> Callable[[], Iterator[Slurm]]:
    """``slurm = module_fixture()`` in a test module: one cluster for the module's tests."""

    @pytest.fixture(scope="module")
    def slurm() -> Iterator[Slurm]:
        with slurm_cluster() as cluster:
            yield cluster

    return slurm  # type: ignore[no-any-return]
