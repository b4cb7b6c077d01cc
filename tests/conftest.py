"""Suite-wide: every test process takes Ctrl-C as a program would."""

import signal


def pytest_configure(config):
    # Started in the background by a non-interactive shell (`nohup ... &`, some CI runners), pytest
    # inherits SIGINT ignored, and so would every process a test starts: the Ctrl-C tests would then
    # test nothing. A process that ignores SIGINT passes it on ignored; one with a handler, as default.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
