"""Command-line options and logging shared by the writers."""

import logging
import os
import sys

# docs/design.md §6a: a writer that does not run as root may not ask for
# longer timeouts than these defaults
DEFAULT_FREEZE_TIMEOUT_MS = 60000
DEFAULT_EVENT_TIMEOUT_MS = 30000

# syslog priorities of the logging levels, for the <N> prefixes journald reads
_PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def add_common_arguments(parser):
    """The options every writer has; parse them with the writer's own."""
    parser.add_argument('--freeze-timeout-ms', type=int, default=DEFAULT_FREEZE_TIMEOUT_MS,
                        metavar='MS',
                        help='longest time the application may stay frozen, Freeze to Thaw '
                             f'(default {DEFAULT_FREEZE_TIMEOUT_MS}; a writer that does not '
                             'run as root may not ask for more)')
    parser.add_argument('--event-timeout-ms', type=int, default=DEFAULT_EVENT_TIMEOUT_MS,
                        metavar='MS',
                        help='longest time the writer takes for any other event '
                             f'(default {DEFAULT_EVENT_TIMEOUT_MS}; a writer that does not '
                             'run as root may not ask for more)')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='log every event and every statement or script it runs')


def _stderr_is_journal():
    """True when systemd connected our stderr to the journal (JOURNAL_STREAM
    names the stream's device and inode, see systemd.exec(5))."""
    value = os.environ.get('JOURNAL_STREAM')
    if not value:
        return False
    try:
        device, inode = (int(x) for x in value.split(':'))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return st.st_dev == device and st.st_ino == inode


class _JournalFormatter(logging.Formatter):
    """<N>message: journald takes N as the priority of the line, so that
    `journalctl -p warning` shows what an operator must see."""

    def format(self, record):
        priority = _PRIORITIES.get(record.levelno, 6)
        lines = super().format(record).splitlines() or ['']
        # every line of a multi-line message gets its priority
        return '\n'.join(f'<{priority}>{line}' for line in lines)


def setup_logging(program, verbose=False):
    """Logging to stderr: with syslog priority prefixes under systemd (the
    journal adds time and program name itself), with both otherwise."""
    handler = logging.StreamHandler(sys.stderr)
    if _stderr_is_journal():
        handler.setFormatter(_JournalFormatter('%(message)s'))
    else:
        handler.setFormatter(logging.Formatter(
            f'%(asctime)s {program}[{os.getpid()}] %(levelname)s: %(message)s'))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return logging.getLogger(program)
