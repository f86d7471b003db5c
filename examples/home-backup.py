#!/usr/bin/python3
"""A desktop backup application that an ordinary user runs without root.

    home-backup.py [--dir DIR] ARCHIVE

It asks vss for a snapshot of the btrfs subvolume that holds DIR (default:
your home directory), with every writer of that subvolume frozen around it,
archives DIR from the snapshot with tar into ARCHIVE (members relative to
DIR), and lets the snapshot go. It registers no writer.

The snapshots lie below <subvolume>/.vss-snapshots, which only root may
enter; the service hands the owner of a set a descriptor of the snapshot's
root instead (Snapshot.Open), and below it the files' own permissions apply:
you read from the snapshot what you could read in the live directory then.

The set is of context "backup": it goes when this program's bus connection
ends, also when the program dies, and the service deletes it after a restart
too. A persistent set would outlive a crash, and deleting a set needs the
polkit action org.freedesktop.vss1.manage-snapshots, which a user lacks.
"""

import argparse
import os
import pwd
import subprocess
import sys

import gi

gi.require_version('Gio', '2.0')
gi.require_version('Vss', '1.0')
from gi.repository import Gio, GLib, Vss  # noqa: E402

BTRFS_SUBVOLUME_ROOT_INO = 256  # the inode number of every btrfs subvolume's root


def subvolume_of(path):
    """The root of the btrfs subvolume that holds @path (a canonical path): the
    top of its device (each subvolume has a device number of its own)."""
    device = os.stat(path).st_dev
    while path != '/' and os.stat(os.path.dirname(path)).st_dev == device:
        path = os.path.dirname(path)
    if os.stat(path).st_ino != BTRFS_SUBVOLUME_ROOT_INO:
        raise ValueError(f'{path} is not the root of a btrfs subvolume')
    return path


def archive(snapshot_fd, inside, destination):
    """tar of @inside (a path relative to the snapshot's root) into @destination.
    tar inherits the descriptor under the same number, so /proc/self/fd/N in
    its arguments is the snapshot's root."""
    argv = ['tar', '--create', '--file', destination,
            '--directory', os.path.join(f'/proc/self/fd/{snapshot_fd}', inside)]
    if inside == '.':
        # the subvolume's own snapshots appear as an empty directory
        argv += ['--anchored', '--exclude=./.vss-snapshots']
    return subprocess.run(argv + ['.'], pass_fds=[snapshot_fd]).returncode


def main():
    parser = argparse.ArgumentParser(description='back up your home directory from a snapshot')
    parser.add_argument('--dir', default=pwd.getpwuid(os.getuid()).pw_dir,
                        help='the directory to back up (default: your home)')
    parser.add_argument('archive', help='the tar file to write')
    args = parser.parse_args()
    directory = os.path.realpath(args.dir)  # the service wants canonical paths
    destination = os.path.abspath(args.archive)
    try:
        subvolume = subvolume_of(directory)
    except (OSError, ValueError) as e:
        print(f'cannot back up {directory}: {e}', file=sys.stderr)
        return 1

    try:
        # a connection of our own: closing it lets the set go, whoever else
        # in this process uses the shared system bus connection
        address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SYSTEM, None)
        connection = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    except GLib.Error as e:
        print(f'cannot reach the system bus: {e.message}', file=sys.stderr)
        return 1
    try:
        client = Vss.Client.new_for_connection(connection)
        # polkit's org.freedesktop.vss1.backup: an admin's password, or a
        # rule for a group (README: "Backups by users who are not root")
        [snapshot] = client.create_snapshot_set_sync(
            [subvolume], Vss.SnapshotContext.BACKUP, 'home-backup.py',
            Vss.CreateSnapshotSetFlags.NONE, None)
        print(f'snapshot set: {snapshot.get_snapshot_set_id()}', flush=True)
        fd = snapshot.open_sync(None)
        try:
            status = archive(fd, os.path.relpath(directory, subvolume), destination)
        finally:
            os.close(fd)
    except GLib.Error as e:
        print(f'vss: {e.message}', file=sys.stderr)
        return 1
    finally:
        # the set (context "backup") goes with the connection
        connection.close_sync(None)
    if status != 0:
        print(f'tar failed with exit status {status}', file=sys.stderr)
        return 1
    print(f'archive: {destination}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
