"""What the application writers of vss share (docs/design.md §9).

vss-writer-postgresql, vss-writer-mariadb and vss-writer-hooks are Python
programs on libvss-gobject (``gi.repository.Vss``). This package holds what
they have in common, so that each program is only what is particular to its
application:

- ``cli``: the command-line options every writer has, and logging that an
  operator reads in the journal;
- ``writer``: ``ApplicationWriter``, a ``Vss.Writer`` that runs the blocking
  work of each event (database calls, scripts) on one worker thread, answers
  the event back on the main loop, lets go of the application whenever a
  backup ends or goes away (Abort, BackupShutdown, vssd leaving the bus, its
  own timer), and keeps itself registered;
- ``run``: the main loop of a writer program, with SIGTERM handling;
- ``btrfs``: where vssd puts snapshots (``is_subvolume_root``).
"""

from .btrfs import SNAPSHOT_DIR, is_subvolume_root  # noqa: F401
from .cli import add_common_arguments, setup_logging  # noqa: F401
from .writer import ApplicationWriter, Event, WriterFailed, run  # noqa: F401

__all__ = ['SNAPSHOT_DIR', 'is_subvolume_root', 'add_common_arguments', 'setup_logging',
           'ApplicationWriter', 'Event', 'WriterFailed', 'run']
