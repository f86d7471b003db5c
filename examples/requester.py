#!/usr/bin/python3
"""A minimal backup application: snapshots btrfs subvolumes with vss.

    requester.py [--persistent] SUBVOLUME...

It drives one backup through the service: gather the writers' metadata, put
the subvolumes in a snapshot set, prepare, snapshot (the writers are frozen
meanwhile), then complete and release. Without --persistent the snapshots are
deleted on release, so a real requester copies its data from them in between.
On failure it aborts the backup, prints the error and exits with 1.

This program has no writer of its own, so the blocking (_sync) calls are fine;
a program that is also a writer must use the _async calls, or its writer could
not answer events while a call waits.
"""

import argparse
import os
import sys

import gi

gi.require_version('Vss', '1.0')  # before the import, or GI may pick another version
from gi.repository import GLib, Vss  # noqa: E402


def backup(components, subvolumes, persistent):
    prepared = False
    try:
        components.initialize_for_backup_sync(None)
        if persistent:
            # keep the snapshots after release, until someone deletes them
            components.set_context_sync(Vss.SnapshotContext.PERSISTENT, None)

        # Identify: every registered writer says who it is and where its data is
        for info in components.gather_writer_metadata_sync(None):
            print(f'writer: {info.get_name()} {list(info.get_paths() or [])}')

        print(f'snapshot set: {components.start_snapshot_set_sync(None)}')
        for path in subvolumes:
            components.add_to_snapshot_set_sync(path, None)

        # from here on the writers take part (even if this fails): a backup
        # abandoned after this call must be aborted
        prepared = True
        components.prepare_for_backup_sync(None)
        components.do_snapshot_set_sync(None)

        for snapshot in components.get_snapshots_sync(None):
            # a real requester would copy the files from the snapshot here
            print(f'snapshot: {snapshot.get_source_path()} -> {snapshot.get_snapshot_path()}')
        components.backup_complete_sync(None)
        return 0
    except GLib.Error as e:
        print(f'backup failed: {e.message}', file=sys.stderr)
        if prepared:
            # a failed DoSnapshotSet may or may not have sent Abort already:
            # abort all the same, it is always safe (the writers see it once)
            components.abort_backup_sync(None)
            print('aborted')
        return 1


def main():
    parser = argparse.ArgumentParser(description='snapshot btrfs subvolumes with vss')
    parser.add_argument('--persistent', action='store_true',
                        help='keep the snapshots after the backup')
    parser.add_argument('subvolumes', nargs='+', metavar='SUBVOLUME')
    args = parser.parse_args()
    # absolute paths; the service refuses relative ones
    subvolumes = [os.path.abspath(path) for path in args.subvolumes]
    try:
        # connect to the service on the system bus; needs the polkit action
        # org.freedesktop.vss1.backup (root needs none)
        client = Vss.Client.new_sync(None)
        components = client.create_backup_components_sync(Vss.BackupComponentsFlags.NONE, None)
        status = backup(components, subvolumes, args.persistent)
        # ends the backup: writers get BackupShutdown, and backup-context
        # snapshots are deleted
        components.release_sync(None)
    except GLib.Error as e:
        print(f'vss: {e.message}', file=sys.stderr)
        return 1
    return status


if __name__ == '__main__':
    sys.exit(main())
