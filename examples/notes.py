#!/usr/bin/python3
"""A notes application of an ordinary user that is a vss writer.

    notes.py [--name NAME] DIR

Every 100 ms it adds a note: the text goes to DIR/NOTE-ID.txt and the note's
row to the SQLite index DIR/index.sqlite. A note is whole only when both
exist, so a snapshot taken between the two would hold a file without a row;
frozen, it writes nothing. It registers with DIR as its path: a writer of a
user other than root must name paths it owns, and then takes part only in
backups of the subvolume that holds them (docs/design.md §4a, §6a). It prints
"ready", then "event: NAME" for each event and "frozen: N notes" at Freeze,
and runs until SIGINT or SIGTERM.
"""

import argparse
import os
import signal
import sqlite3
import sys

import gi

gi.require_version('Vss', '1.0')
from gi.repository import GLib, Vss  # noqa: E402


def say(line):
    print(line, flush=True)


class Notes(Vss.Writer):
    def __init__(self, name, directory):
        super().__init__(name=name, paths=[directory])
        self.directory = directory
        # the rollback journal (SQLite's default): once a transaction has
        # committed, the database file alone holds it, so a snapshot taken
        # between transactions needs no journal or WAL beside it
        self.db = sqlite3.connect(os.path.join(directory, 'index.sqlite'), isolation_level=None)
        self.db.execute('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, file TEXT)')
        self.frozen = False
        GLib.timeout_add(100, self.add_note)

    def count(self):
        return self.db.execute('SELECT count(*) FROM notes').fetchone()[0]

    def add_note(self):
        # the main loop runs this and the event handlers one at a time, so
        # no note is half written when Freeze is handled
        if not self.frozen:
            number = self.count() + 1
            name = f'note-{number}.txt'
            with open(os.path.join(self.directory, name), 'w') as f:
                f.write(f'note {number}\n')
            self.db.execute('INSERT INTO notes (id, file) VALUES (?, ?)', (number, name))
        return GLib.SOURCE_CONTINUE

    def do_identify(self, request):
        say('event: identify')
        return True

    def do_freeze(self, request):
        self.frozen = True
        say('event: freeze')
        say(f'frozen: {self.count()} notes')
        return True

    def do_thaw(self, request):
        say('event: thaw')
        self.frozen = False
        return True

    def do_abort(self, request):
        Vss.Writer.do_abort(self, request)  # thaws us first if we are frozen
        say('event: abort')
        return True

    def do_backup_shutdown(self, request):
        say('event: backup-shutdown')
        return True


def main():
    parser = argparse.ArgumentParser(description='a notes application that is a vss writer')
    parser.add_argument('--name', default='notes')
    parser.add_argument('dir', help='where the notes are kept (a directory of yours)')
    args = parser.parse_args()
    directory = os.path.realpath(args.dir)  # the service wants canonical paths
    try:
        notes = Notes(args.name, directory)
    except sqlite3.Error as e:
        print(f'cannot keep notes in {directory}: {e}', file=sys.stderr)
        return 1
    try:
        # polkit's org.freedesktop.vss1.register-writer: allowed by default
        # in an active session
        notes.register_sync(None)
    except GLib.Error as e:
        print(f'cannot register: {e.message}', file=sys.stderr)
        return 1
    say('ready')
    loop = GLib.MainLoop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    loop.run()
    notes.unregister_sync(None)
    say('unregistered')
    return 0


if __name__ == '__main__':
    sys.exit(main())
