"""Crash points for crash tests: a named place where the process can be made to die on purpose.

`PRACTICE_CRASH_AT=publish:switch practice publish` kills the publisher with SIGKILL right
after the new release is complete and before `CURRENT` points at it, as a power cut would.
Nothing happens unless the variable names the point, so production runs pay one dict lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "PRACTICE_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, with no clean-up at all (SIGKILL to ourselves), when $PRACTICE_CRASH_AT is `name`."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
