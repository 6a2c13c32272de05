"""Termination signals become KeyboardInterrupt, so cleanup runs in `finally` blocks.

SIGTERM exists on Windows too; SIGHUP does not. Handlers can only be set from
the main thread, so anywhere else the defaults stay.
"""

import contextlib
import signal

SIGNALS = ("SIGTERM", "SIGHUP")


@contextlib.contextmanager
def interrupt_on_termination():
    previous = {}
    for name in SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            previous[number] = signal.signal(number, signal.default_int_handler)
        except (ValueError, OSError):
            continue
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
