#!/usr/bin/python3
"""A toy "database" that is a vss writer.

It appends a row to DIR/journal every 100 ms. While a backup has it frozen it
stops writing, so that the snapshot holds a journal that is consistent; Thaw
(or Abort) lets it write again.

    writer.py [--name NAME] [--veto] [DIR]

--veto makes it refuse Freeze: a veto. The service then sends Abort to every
writer of the backup, deletes what it snapshotted, and the requester's
DoSnapshotSet fails. The writer prints "ready" once registered and then each
event it handles ("event: freeze"), and runs until SIGINT or SIGTERM.
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version('Vss', '1.0')  # before the import, or GI may pick another version
from gi.repository import GLib, Vss  # noqa: E402


def say(line):
    # flush at once: whoever reads our stdout sees each event as it happens
    print(line, flush=True)


class Database(Vss.Writer):
    """One do_<event> method per event. Return True to acknowledge the event;
    return False (after request.fail()) or raise to fail it."""

    def __init__(self, name, data_dir, veto):
        # where our data lives: we take part only in backups of the subvolume
        # that holds it (without paths, in every backup on the machine)
        super().__init__(name=name, paths=[data_dir] if data_dir else None)
        self.data_dir = data_dir
        self.veto = veto
        self.paused = False
        self.rows = 0
        GLib.timeout_add(100, self.write_row)

    def write_row(self):
        if self.data_dir and not self.paused:
            self.rows += 1
            with open(os.path.join(self.data_dir, 'journal'), 'a') as f:
                f.write(f'row {self.rows}\n')
        return GLib.SOURCE_CONTINUE

    def do_identify(self, request):
        say('event: identify')
        # tell requesters what a backup of us need not copy; the asynchronous
        # call goes out before the acknowledgement, so the service has it in time
        if self.data_dir:
            exclude = GLib.Variant('as', [os.path.join(self.data_dir, 'journal.lock')])
            self.set_metadata_async(GLib.Variant('a{sv}', {'exclude': exclude}))
        return True

    def do_prepare_for_backup(self, request):
        say('event: prepare-for-backup')
        return True

    def do_prepare_for_snapshot(self, request):
        say('event: prepare-for-snapshot')  # a real database would checkpoint here
        return True

    def do_freeze(self, request):
        say('event: freeze')
        if self.veto:
            # failing Freeze vetoes the backup; the message reaches the requester
            request.fail(Vss.WriterFailure.RETRYABLE, 'the database is busy, try later')
            return False
        # stop writing; we will be thawed (or aborted) within this many ms
        self.paused = True
        say(f'paused (thaw within {request.get_timeout_ms()} ms)')
        return True

    def do_thaw(self, request):
        # a local request is the thaw the library runs by itself, on Abort
        say('event: thaw' + (' (local)' if request.is_local() else ''))
        self.paused = False
        return True

    def do_post_snapshot(self, request):
        say('event: post-snapshot')
        for source, snapshot in (request.get_snapshots() or {}).items():
            say(f'snapshot: {source} -> {snapshot}')
        return True

    def do_abort(self, request):
        # chain up first: the default handler thaws us if we are frozen
        Vss.Writer.do_abort(self, request)
        say('event: abort')
        return True

    def do_backup_complete(self, request):
        say('event: backup-complete')
        return True

    def do_backup_shutdown(self, request):
        say('event: backup-shutdown')
        return True


def main():
    parser = argparse.ArgumentParser(description='a toy database that is a vss writer')
    parser.add_argument('--name', default='example database')
    parser.add_argument('--veto', action='store_true', help='veto every Freeze')
    parser.add_argument('dir', nargs='?', help='where the database writes its journal')
    args = parser.parse_args()

    writer = Database(args.name, os.path.abspath(args.dir) if args.dir else None, args.veto)
    try:
        # on the system bus (DBUS_SYSTEM_BUS_ADDRESS); needs the polkit action
        # org.freedesktop.vss1.register-writer (root needs none)
        writer.register_sync(None)
    except GLib.Error as e:
        print(f'cannot register: {e.message}', file=sys.stderr)
        return 1
    say('ready')

    # events arrive in this main loop, which must run
    loop = GLib.MainLoop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    loop.run()

    # a frozen writer thaws and aborts before it leaves
    writer.unregister_sync(None)
    say('unregistered')
    return 0


if __name__ == '__main__':
    sys.exit(main())
