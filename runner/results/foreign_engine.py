"""Run circuits with someone else's scalar autodiff class (`--engine MODULE:CLASS`).

The class is imported and run in a worker process (engine_worker.py), never
in circuit-run's own: importing it runs the user's code, a `backward()` may
never return (each case has a time limit; the worker is then killed and a new
one started for the next case), and a crash ends only the worker. Cases run
one after another in one worker, so the class is imported once per run.

Only the command line (or the pytest plugin's option) names the class; a
spec file never does.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from typing import Any, NamedTuple, Optional

from ..errors import CircuitRunError

DEFAULT_TIMEOUT = 10.0  # seconds per case
IMPORT_TIMEOUT = 60.0  # seconds, at least, to start Python and import the class (PyTorch: seconds, more on a busy machine)
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class EngineError(CircuitRunError):
    """--engine names something that cannot be used as an engine (exit 2)."""

    def __init__(self, target: str, message: str):
        self.target = target
        self.message = message
        super().__init__(f"--engine {target}: {message}")

    def lines(self) -> list[str]:
        return [f"circuit-run: error: {self}"]


def check_target(text: str) -> str:
    """MODULE:CLASS, as written; raises ValueError with the fix otherwise."""
    module, _, attribute = text.partition(":")
    if module.endswith(".py") or "/" in module or "\\" in module:  # a file's path: say its module's name
        name = re.sub(r"\.py$", "", module).strip("./\\").replace("/", ".").replace("\\", ".")
        raise ValueError(f"expected MODULE:CLASS, got {text!r}: give the file's module name, as in an import: "
                         f"{name}:{attribute or 'CLASS'}")
    if not _TARGET.match(text) or ".." in text or text.endswith("."):
        raise ValueError(f"expected MODULE:CLASS (for example micrograd.engine:Value), got {text!r}")
    return text


class Reply(NamedTuple):
    """What the worker answered for one case (`status` done, skipped or error)."""

    status: str
    data: dict


class ForeignEngine:
    """The worker process for one MODULE:CLASS; a context manager.

    `run(job)` sends a case and waits at most `timeout` seconds for its
    reply. Raises `EngineError` if the class cannot be imported (within
    `import_timeout`, by default the larger of `timeout` and 60 s) or used.
    """

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT, import_timeout: Optional[float] = None):
        self.target = target
        self.timeout = timeout
        # Starting Python and importing the class (PyTorch takes seconds) is
        # not held to a short case limit.
        self.import_timeout = max(timeout, IMPORT_TIMEOUT) if import_timeout is None else import_timeout
        self._process: Optional[subprocess.Popen] = None
        self._replies: queue.Queue = queue.Queue()
        self._ended = False  # the last _receive found the worker's output closed

    def __enter__(self) -> "ForeignEngine":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> None:
        if self._process is not None:
            return
        self._replies = queue.Queue()
        self._process = subprocess.Popen(
            # -P: not the current directory first, where a package of the user's own named
            # `runner` would stand in for circuit-run's (the worker puts it first once started)
            [sys.executable, "-P", "-m", "runner.results.engine_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8", env=_worker_environment())
        threading.Thread(target=_read_lines, args=(self._process.stdout, self._replies), daemon=True).start()
        self._send({"target": self.target, "path": _import_path()})
        hello = self._receive(self.import_timeout)
        if hello is None or "refused" in hello:
            ended, process = self._ended, self._process
            if hello is None and not ended:
                process.kill()
            self.close()
            if hello is None and ended:
                raise EngineError(self.target, f"importing the class ended its process (exit code "
                                               f"{process.returncode})")
            if hello is None:
                raise EngineError(self.target, f"importing the class did not finish within {self.import_timeout:g} s")
            raise EngineError(self.target, hello["refused"])

    def run(self, job: dict) -> Reply:
        self.start()
        self._send(job)
        phase = "building the circuit"
        deadline = time.monotonic() + self.timeout  # for the whole case, however many phases
        while True:
            reply = self._receive(max(0.0, deadline - time.monotonic()))
            if reply is None:
                return self._lost(phase)
            if "phase" in reply:
                phase = reply["phase"]
                continue
            return Reply(reply["status"], reply)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _close(process.stdin)  # the worker's signal to finish
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:  # still busy with a case
            process.kill()
            process.wait()

    def _send(self, message: dict) -> None:
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except OSError:  # the worker has gone; _receive finds out
            pass

    def _receive(self, timeout: float) -> Optional[dict]:
        """The next reply; None when there is none in time or the worker's
        output has ended (`self._ended` tells which)."""
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            self._ended = False
            return None
        self._ended = line is None
        return None if line is None else json.loads(line)

    def _lost(self, phase: str) -> Reply:
        """The case took too long, or the worker died: end it, report, and
        let the next case start a new one."""
        process, self._process = self._process, None
        timed_out = not self._ended
        if timed_out:
            process.kill()
        code = process.wait()
        _close(process.stdin)
        if timed_out:
            message = f"did not finish within {self.timeout:g} s; stopped"
            return Reply("error", {"type": "Timeout", "message": message, "where": phase})
        return Reply("error", {"type": "Crash", "where": phase,
                               "message": f"the engine's process ended with exit code {code}"})


def _read_lines(stream, replies: queue.Queue) -> None:
    """The worker's replies, line by line, then None when its output ends."""
    for line in stream:
        replies.put(line)
    _close(stream)
    replies.put(None)


def _close(stream) -> None:
    try:
        stream.close()
    except OSError:  # a pipe whose other end is gone
        pass


def _import_path() -> list[str]:
    """Where the worker looks for MODULE: the current directory first (a
    learner's engine.py next to the specs), then wherever this process looks."""
    here = os.getcwd()
    return [here] + [entry for entry in sys.path if entry not in ("", here)]


def _worker_environment() -> dict:
    environment = dict(os.environ)
    environment["PYTHONIOENCODING"] = "utf-8"
    return environment
