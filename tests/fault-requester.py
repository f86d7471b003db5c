#!/usr/bin/python3
"""A backup application for the reliability tests, in a process of its own.

It drives one backup through libvss-gobject (gi.repository.Vss) on the
system bus (in the tests: the private test bus, DBUS_SYSTEM_BUS_ADDRESS),
and prints 'called CALL' after each call that returned, flushed at once:

    CreateBackupComponents InitializeForBackup SetContext GatherWriterMetadata
    StartSnapshotSet AddToSnapshotSet PrepareForBackup DoSnapshotSet
    BackupComplete Release

With --die-after CALL it SIGKILLs itself right after CALL returned, so the
service sees a requester vanish with whatever that call left behind. It also
prints 'backup PATH', the object path of its BackupComponents. A call
that fails prints 'failed CALL MESSAGE' and ends the program with status 1.
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('Vss', '1.0')
from gi.repository import Gio, GLib, Vss  # noqa: E402

CALLS = ('CreateBackupComponents', 'InitializeForBackup', 'SetContext', 'GatherWriterMetadata',
         'StartSnapshotSet', 'AddToSnapshotSet', 'PrepareForBackup', 'DoSnapshotSet',
         'BackupComplete', 'Release')


def say(*words):
    sys.stdout.write(' '.join(str(w) for w in words) + '\n')
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--volume', action='append', default=[], required=True)
    parser.add_argument('--context', choices=('backup', 'persistent'), default='backup')
    parser.add_argument('--die-after', choices=CALLS)
    options = parser.parse_args()

    connection = Gio.DBusConnection.new_for_address_sync(
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    client = Vss.Client.new_for_connection(connection)
    context = (Vss.SnapshotContext.PERSISTENT if options.context == 'persistent'
               else Vss.SnapshotContext.BACKUP)
    backup = None

    def step(name, func, *args):
        try:
            result = func(*args, None)
        except GLib.Error as e:
            say('failed', name, e.message)
            sys.exit(1)
        say('called', name)
        if name == options.die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    def created(backup):
        say('backup', backup.props.object_path)
        return backup

    backup = step('CreateBackupComponents',
                  lambda flags, c: created(client.create_backup_components_sync(flags, c)),
                  Vss.BackupComponentsFlags.NONE)
    step('InitializeForBackup', backup.initialize_for_backup_sync)
    step('SetContext', backup.set_context_sync, context)
    step('GatherWriterMetadata', backup.gather_writer_metadata_sync)
    step('StartSnapshotSet', backup.start_snapshot_set_sync)
    for volume in options.volume:
        step('AddToSnapshotSet', backup.add_to_snapshot_set_sync, volume)
    step('PrepareForBackup', backup.prepare_for_backup_sync)
    step('DoSnapshotSet', backup.do_snapshot_set_sync)
    step('BackupComplete', backup.backup_complete_sync)
    step('Release', backup.release_sync)


if __name__ == '__main__':
    main()
