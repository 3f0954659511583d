"""Stopping a training run by signal: which signals are taken over, and what repeats do."""

import os
import signal

import pytest

from herdemos.experiment.stopping import GracefulStop


@pytest.fixture
def saved_handlers():
    """Restores the process's stop-signal handlers after the test."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_nohup_keeps_training_alive_when_the_terminal_closes(saved_handlers):
    """Under ``nohup`` SIGHUP is ignored and stays ignored; SIGINT, which a shell's background
    job also starts with ignored, is taken over so that ``kill -INT PID`` still stops the run."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with GracefulStop(echo=lambda *a, **k: None) as stop:
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGHUP)
        assert not stop()
        os.kill(os.getpid(), signal.SIGINT)
        assert stop() and stop.signal == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # restored on exit


def test_a_closed_terminal_stops_a_run_started_without_nohup(saved_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    with GracefulStop(echo=lambda *a, **k: None) as stop:
        os.kill(os.getpid(), signal.SIGHUP)
        assert stop.signal == signal.SIGHUP


def test_only_a_second_ctrl_c_aborts_and_a_passed_on_sigterm_changes_nothing(saved_handlers):
    """The benchmark runner passes a Ctrl-C on as SIGTERM; train.py, already stopping, keeps
    stopping after its cycle (and reports the first signal); a second Ctrl-C aborts."""
    lines = []
    with GracefulStop(echo=lambda line, **k: lines.append(line)) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signal == signal.SIGINT and len(lines) == 1
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
