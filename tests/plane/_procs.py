"""Child processes of the plane: own process groups, logs on disk, killed however the run ends."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["ManagedProcess", "StartupError", "free_port", "stop_all", "wait_until"]

_PR_SET_PDEATHSIG = 1
_LIVE: list[ManagedProcess] = []


class StartupError(Exception):
    """A plane component did not come up; the message names it and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    # If the test runner is killed outright (SIGKILL, OOM), atexit never runs; the kernel then
    # sends the component SIGKILL instead of leaving it orphaned.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class ManagedProcess:
    def __init__(
        self, name: str, argv: Sequence[str], *, log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self._log.write(("$ " + " ".join(self.argv) + "\n").encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        _LIVE.append(self)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # The group may hold stragglers even after the leader exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        if self in _LIVE:
            _LIVE.remove(self)


def stop_all() -> None:
    for proc in reversed(list(_LIVE)):
        proc.stop(timeout=5.0)


atexit.register(stop_all)


def wait_until(
    what: str, check: Callable[[], bool], *, proc: ManagedProcess, timeout: float, interval: float = 0.2
) -> float:
    """Poll `check` until true; fail fast if the process died. Return the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise StartupError(
                f"{proc.name} exited with {proc.proc.returncode} before {what}; log: {proc.log_path}\n"
                f"{proc.log_tail()}"
            )
        try:
            if check():
                return time.monotonic() - started
        except Exception as exc:  # readiness probes fail in many ways while starting
            last_error = exc
        time.sleep(interval)
    raise StartupError(
        f"{proc.name}: no {what} within {timeout:.0f}s (last error: {last_error!r}); log: {proc.log_path}\n"
        f"{proc.log_tail()}"
    )
