"""The app as a person runs it: in a real terminal (a pty, and tmux where installed), keys typed,
the process killed mid-review, and every decision made before the kill still there."""

from __future__ import annotations

import itertools
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLES


def read_until(fd, needle: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if needle in seen:
                return seen
    raise AssertionError(f"{needle!r} never appeared on screen")


def in_a_terminal(data):
    """The real app in a real terminal (a pty), started as its own process: (process, pty fd).

    subprocess, not pty.fork: forking the test process, which has threads of earlier tests, can
    copy a lock one of them holds into the child before it execs."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36"}
    proc = subprocess.Popen([sys.executable, "-m", "dataforge.cli", "tui", str(data)], stdin=follower,
                            stdout=follower, stderr=follower, env=env, start_new_session=True, close_fds=True)
    os.close(follower)
    return proc, leader


def test_kill_mid_review_and_reopen(tmp_path):
    data = tmp_path / "onboarding.jsonl"
    shutil.copy(SAMPLES / "generated" / "onboarding_en.alpaca.jsonl", data)
    proc, fd = in_a_terminal(data)
    try:
        read_until(fd, b"9 pending")
        for key in (b"a", b"r", b"a", b"e"):
            os.write(fd, key)
            time.sleep(0.4)
        read_until(fd, b"ctrl+s saves")
        os.write(fd, b"\x13")  # ctrl+s: save the edit unchanged
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.close(fd)
    from dataforge.review.store import log_path

    log = [json.loads(line) for line in log_path(data).read_text().splitlines()]
    assert [(e["event"], e["record"], e.get("decision")) for e in log] == [
        ("decide", 0, "accepted"), ("decide", 1, "rejected"), ("decide", 2, "accepted"), ("edit", 3, None)]

    from dataforge.review.store import ReviewStore

    store = ReviewStore(data)  # reopened as the app reopens it
    assert [store.state(i).decision for i in range(4)] == ["accepted", "rejected", "accepted", "pending"]
    assert store.state(3).edited is not None
    store.close()


_SOCKETS = itertools.count()


class TmuxApp:
    """The app on a dataset in a tmux pane of a given size, on a tmux server of its own (another
    server's settings, its default size, must not apply)."""

    def __init__(self, tmp_path, data, colour: str, size: tuple[int, int]):
        self.session = "review"
        # a socket of its own per app: the previous test's server may still be shutting down on its
        # socket, and a new session there fails
        self.tmux = ["tmux", "-L", f"dataforge-test-{os.getpid()}-{next(_SOCKETS)}", "-f", os.devnull]
        # COLUMNS/LINES from the test process would override the pane's real size; the exit
        # status is written down, since a crash inside the app must not end with 0.
        no_color = "NO_COLOR=1" if colour != "colour" else ""
        self.status = tmp_path / "status"
        command = (f"env -u COLUMNS -u LINES {no_color} {sys.executable} -m dataforge.cli tui {data}; "
                   f"echo $? > {self.status}; sleep 5")
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.session, "-x", str(size[0]),
                        "-y", str(size[1]), command], check=True)

    def __enter__(self) -> TmuxApp:
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")

    def quit_cleanly(self) -> None:
        """q, then the app's exit status is 0 and no traceback was printed."""
        self.keys("q")
        deadline = time.monotonic() + 15
        while not self.status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.status.read_text().strip() == "0", self.screen()
        assert "Traceback" not in self.screen()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("colour", ["colour", "NO_COLOR=1"])
@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_in_tmux(tmp_path, colour, size):
    data = tmp_path / "returns.jsonl"
    shutil.copy(SAMPLES / "generated" / "returns_policy_zh.chatglm3.jsonl", data)
    with TmuxApp(tmp_path, data, colour, size) as app:
        app.wait_for("10 pending")
        app.keys("a", "a", "r")
        shown = app.wait_for("2 accepted")
        assert "1 rejected" in shown and "✔" in shown and "✘" in shown
        app.keys("3")
        shown = app.wait_for("end of turn trained")
        assert "template chatglm3" in shown
        app.keys("2", "j", "j", "j", "j", "j", "j")
        time.sleep(0.5)
        app.quit_cleanly()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("colour", ["colour", "NO_COLOR=1"])
def test_a_broken_record_in_tmux_at_80x24(tmp_path, colour):
    """The shipped broken sample's sixth row is not valid JSON: its text and its finding show."""
    data = tmp_path / "broken.jsonl"
    shutil.copy(SAMPLES / "broken" / "chatglm3_broken.jsonl", data)
    with TmuxApp(tmp_path, data, colour, (80, 24)) as app:
        app.wait_for("pending")
        app.wait_for("·!")  # linted: the rows with findings are marked
        app.keys("j", "j", "j", "j", "j")
        app.wait_for("record 5")
        shown = app.wait_for("▲ E0")
        assert '"content": "truncated' in shown
        app.quit_cleanly()


def test_kill_right_after_a_bulk_decision_loses_nothing(tmp_path):
    """R (reject every shown sample) is one log line written through before the screen updates:
    a kill -9 right after it keeps all of it."""
    data = tmp_path / "onboarding.jsonl"
    shutil.copy(SAMPLES / "generated" / "onboarding_en.alpaca.jsonl", data)
    proc, fd = in_a_terminal(data)
    try:
        read_until(fd, b"9 pending")
        os.write(fd, b"a")
        time.sleep(0.4)
        os.write(fd, b"R")
        read_until(fd, b"9 rejected")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.close(fd)
    from dataforge.review.store import ReviewStore

    store = ReviewStore(data)
    assert [store.state(i).decision for i in range(9)] == ["rejected"] * 9
    store.close()
