"""The store's writer lock: ``fcntl.flock`` on ``<store>.lock``, with the holder named inside.

A second writer fails at once (no waiting) with :class:`~omnimdm.errors.LockError` naming
the holder's pid, command and start time. The kernel releases an flock when its process
dies, SIGKILL included, so a killed writer never leaves a stale lock behind.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from omnimdm.errors import LockError


@dataclass(frozen=True)
class LockHolder:
    pid: int
    command: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid} running {self.command!r} since {self.started_at}"


class StoreLock:
    """Exclusive writer lock: ``fcntl.flock`` on ``<store>.lock`` holding pid/command/start.

    The kernel releases an flock when its process dies, so a killed writer never leaves a
    stale lock behind; the JSON inside is only there to name the holder.
    """

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fh: IO[str] | None = None

    def acquire(self, command: str) -> None:
        """Take the lock at once, or raise :class:`LockError` naming the holder.

        There is no waiting: a second writer fails immediately, whatever it is (a run, a
        training, a steward's decision), so a scheduler or a person sees the conflict
        instead of a silent stall."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        if not self._try_flock(fh):
            fh.seek(0)
            holder = self._parse(fh.read())
            fh.close()
            who = holder.describe() if holder else "another process"
            store = self.path.with_name(self.path.name.removesuffix(".lock"))
            raise LockError(
                f"the store {store} is locked by {who}; {command!r} needs it for writing. "
                "Run it again when that finishes; readers (export, explain, the read API) "
                "keep working from the snapshot meanwhile."
            )
        fh.seek(0)
        fh.truncate()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        fh.write(json.dumps({"pid": os.getpid(), "command": command, "started_at": now}))
        fh.flush()
        self._fh = fh

    @staticmethod
    def _try_flock(fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    @staticmethod
    def _parse(text: str) -> LockHolder | None:
        try:
            data = json.loads(text)
            return LockHolder(int(data["pid"]), str(data["command"]), str(data["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None


__all__ = ["LockHolder", "StoreLock"]
