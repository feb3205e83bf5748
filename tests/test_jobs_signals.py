"""GracefulStop: the first SIGTERM/SIGINT asks for a stop, a second one forces it."""

from __future__ import annotations

import os
import signal

import pytest

from batch_classifier.inference.jobs.stop import GracefulStop


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_first_signal_sets_a_flag_second_raises(sig):
    before = signal.getsignal(sig)
    with GracefulStop() as stop:
        assert stop.requested is None
        os.kill(os.getpid(), sig)
        assert stop.requested == sig.name
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), sig)
    assert signal.getsignal(sig) is before
