"""A throw-away PostgreSQL server for the tests: `initdb` into a temporary folder, `postgres` on a free
loopback port, one fresh database per test, everything stopped and removed at the end.

The server binaries come from Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin; installed
by scripts/install_system_deps.sh where missing) or from PATH. PostgreSQL refuses to run as root, so when
the tests run as root, initdb and postgres run as an existing unprivileged user (`postgres`, else
`nobody`) and the temporary folder is handed to that user. The cluster listens on 127.0.0.1 only, keeps its
unix socket inside the temporary folder (mode 0700) and uses trust authentication, so no password exists
anywhere (no command line, no log, no URL). Durability is switched off (fsync, synchronous commit): the
data lives only as long as the test session.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SUPERUSER = "p4r_test"
MAINTENANCE_DB = "postgres"
UNPRIVILEGED_USERS = ("postgres", "nobody")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
BINARIES = ("initdb", "postgres")


def find_bin_dir() -> Path | None:
    """The folder holding initdb and postgres: the newest /usr/lib/postgresql/<version>/bin, else PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(candidate, b), os.X_OK) for b in BINARIES):
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        folder = Path(found).resolve().parent
        if all(os.access(folder / b, os.X_OK) for b in BINARIES):
            return folder
    return None


def can_install_server() -> bool:
    """Whether scripts/install_system_deps.sh could have installed the server here (root with apt-get)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(f"running as root and none of the users {UNPRIVILEGED_USERS} exists to run PostgreSQL as")


class PostgresServer:
    """One temporary cluster. `start()` returns once it accepts connections; `stop()` always cleans up."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.user = _run_as()
        self.folder: Path | None = None
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    # -- processes ------------------------------------------------------------------------------------

    def _popen_kwargs(self) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
            "TZ": "UTC",
            "HOME": str(self.folder),
        }
        kwargs = {"cwd": self.folder, "env": env}
        if self.user is not None:  # setgroups([]), setgid, setuid in the child before exec (like setpriv)
            kwargs.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        return kwargs

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def _temp_root(self) -> str | None:
        """The system temporary folder, unless the server's user could not reach into it (then /tmp)."""
        root = Path(tempfile.gettempdir()).resolve()
        if self.user is None or all(p.stat().st_mode & 0o001 for p in (root, *root.parents)):
            return None
        return "/tmp"

    def start(self) -> PostgresServer:
        self.folder = Path(tempfile.mkdtemp(prefix="p4r-postgres-", dir=self._temp_root()))
        atexit.register(self.stop)  # a safety net; the fixture stops it first
        try:
            (self.folder / "sockets").mkdir()
            if self.user is not None:
                for path in (self.folder, self.folder / "sockets"):
                    os.chown(path, self.user.pw_uid, self.user.pw_gid)
            initdb = [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.folder / "data"),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",  # byte-order collation, as SQLite's
                "--no-sync",
            ]
            done = subprocess.run(initdb, capture_output=True, text=True, **self._popen_kwargs())
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
            last_error = ""
            for _ in range(3):  # a free port can be taken by someone else before postgres binds it
                self.port = _free_port()
                try:
                    self._launch()
                    return self
                except RuntimeError as err:
                    last_error = str(err)
                    self._terminate()
            raise RuntimeError(last_error)
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder / "sockets"),
            "max_connections": "200",
            "shared_buffers": "32MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "timezone": "UTC",
            "log_min_messages": "warning",
        }
        command = [str(self.bin_dir / "postgres"), "-D", str(self.folder / "data")]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log = open(self.log_path, "ab")  # handed to the child, closed below
        try:
            if self.user is not None:
                os.chown(self.log_path, self.user.pw_uid, self.user.pw_gid)
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **self._popen_kwargs()
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with self.connect(connect_timeout=2):
                    return
            except Exception as err:  # not up yet
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"postgres did not accept connections in {START_TIMEOUT_S:.0f} s: {err}\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: end sessions, checkpoint, exit
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGQUIT)  # "immediate" shutdown
                try:
                    self.process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self.process = None

    def stop(self) -> None:
        """Stop the server (if running) and remove its folder; safe to call more than once."""
        try:
            self._terminate()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    # -- databases ------------------------------------------------------------------------------------

    def connect(self, dbname: str = MAINTENANCE_DB, **kwargs):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True, **kwargs
        )

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "p4r") -> str:
        """A new empty database with a unique name; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of `url`, ending any session still connected to it."""
        name = url.rsplit("/", 1)[1]
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
