#!/usr/bin/python3
"""Files that writers add to their snapshots (docs/design.md §4c).

While its PostSnapshot is pending, a writer puts the content of an open
regular file at a path of its own data in the snapshot: PostgreSQL's
backup_label, the WAL written up to the end of the backup. The snapshots are
read-only once DoSnapshotSet returns; bad input changes nothing.
"""

import os
import socket
import subprocess
import tempfile
import unittest

import btrfsutil

from vsstest import VssTestCase, iterate_until, spin

NOBODY = 65534


def post_snapshot_adding(files, answer='ack'):
    """A PostSnapshot handler that adds @files, a list of (path, fd), one
    after the other, keeps each reply's error (or None) in writer.added,
    then answers: 'ack', 'fail' or 'hang'."""
    def handler(writer, event):
        writer.added = []

        def add(i):
            if i == len(files):
                if answer == 'ack':
                    writer.ack(event.serial)
                elif answer == 'fail':
                    writer.fail(event.serial, 'retryable', 'could not add')
                return
            path, fd = files[i]
            pending = writer.add_backup_file(event.serial, path, fd)

            def done(p):
                writer.added.append(p.error.name if p.error else None)
                add(i + 1)

            pending.on_done = done

        add(0)
    return handler


class BackupFilesTestCase(VssTestCase):
    def setUp(self):
        super().setUp()
        self.volume = self.subvolume('data', {'live': b'live data'})
        self.db = os.path.join(self.volume, 'db')
        os.mkdir(self.db)
        self.scratch = tempfile.mkdtemp(prefix='files-', dir=self.tmpdir)

    def source(self, name, content=b'', mode=0o640, owner=None, directory=None):
        """A file to add, opened read-only; on /tmp unless @directory says otherwise."""
        path = os.path.join(directory or self.scratch, name)
        with open(path, 'wb') as f:
            f.write(content)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, owner)
        fd = os.open(path, os.O_RDONLY)
        self.addCleanup(os.close, fd)
        return fd

    def backup(self, expect_ok=True):
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume])
        if expect_ok:
            backup.DoSnapshotSet()
        return backup

    def snapshot_dir(self):
        [snapshot_id] = self.snapshots_on_disk(self.volume)
        return os.path.join(self.volume, '.vss-snapshots', snapshot_id)


class AddBackupFileTest(BackupFilesTestCase):
    def test_files_land_in_the_read_only_snapshot(self):
        label = self.source('label', b'START WAL LOCATION: 0/2000028\n', 0o600, owner=NOBODY)
        wal = self.source('wal', b'\x00' * 65536, 0o640)
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([
                (os.path.join(self.db, 'backup_label'), label),
                (os.path.join(self.db, 'pg_wal', 'archive_status', '000000010000000000000002'),
                 wal),
            ])})
        backup = self.backup()
        self.assertEqual(writer.added, [None, None])
        snapshot = self.snapshot_dir()
        # read-only before DoSnapshotSet returned
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot))
        added = os.path.join(snapshot, 'db', 'backup_label')
        with open(added, 'rb') as f:
            self.assertEqual(f.read(), b'START WAL LOCATION: 0/2000028\n')
        st = os.stat(added)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o600, NOBODY, NOBODY))
        wal_copy = os.path.join(snapshot, 'db', 'pg_wal', 'archive_status',
                                '000000010000000000000002')
        self.assertEqual(os.path.getsize(wal_copy), 65536)
        self.assertEqual(os.stat(wal_copy).st_mode & 0o7777, 0o640)
        # the parents were made inside the snapshot only, never in the live data
        self.assertTrue(os.path.isdir(os.path.join(snapshot, 'db', 'pg_wal')))
        self.assertFalse(os.path.exists(os.path.join(self.db, 'pg_wal')))
        self.assertFalse(os.path.exists(os.path.join(self.db, 'backup_label')))
        backup.BackupComplete()
        backup.Release()

    def test_reflink_on_the_same_filesystem(self):
        content = os.urandom(1024 * 1024)
        same_fs = self.source('big', content, directory=self.db)
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([(os.path.join(self.db, 'copy'), same_fs)])})
        backup = self.backup()
        self.assertEqual(writer.added, [None])
        copy = os.path.join(self.snapshot_dir(), 'db', 'copy')
        with open(copy, 'rb') as f:
            self.assertEqual(f.read(), content)
        # the copy shares the source's extents: a reflink, not a copy
        self.assertEqual(physical_extents(copy), physical_extents(os.path.join(self.db, 'big')))
        backup.Release()

    def test_copy_from_another_filesystem(self):
        content = os.urandom(300 * 1024)
        with tempfile.TemporaryDirectory(dir='/dev/shm') as shm:
            other_fs = self.source('wal', content, directory=shm)
            writer = self.writer('db', options={'paths': [self.db]}, script={
                'PostSnapshot': post_snapshot_adding([(os.path.join(self.db, 'wal'),
                                                       other_fs)])})
            backup = self.backup()
        self.assertEqual(writer.added, [None])
        with open(os.path.join(self.snapshot_dir(), 'db', 'wal'), 'rb') as f:
            self.assertEqual(f.read(), content)
        backup.Release()

    def test_a_regular_file_in_the_snapshot_is_replaced(self):
        with open(os.path.join(self.db, 'state'), 'wb') as f:
            f.write(b'as it was at the snapshot')
        newer = self.source('state', b'as it is after the backup')
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([(os.path.join(self.db, 'state'), newer)])})
        backup = self.backup()
        self.assertEqual(writer.added, [None])
        with open(os.path.join(self.snapshot_dir(), 'db', 'state'), 'rb') as f:
            self.assertEqual(f.read(), b'as it is after the backup')
        backup.Release()

    def test_abort_deletes_the_snapshot_with_what_was_added(self):
        label = self.source('label', b'label')
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([(os.path.join(self.db, 'label'), label)],
                                                 answer='hang')})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume])
        pending = backup.call_async('DoSnapshotSet')
        iterate_until(lambda: getattr(writer, 'added', None) == [None], what='the file added')
        backup.AbortBackup()
        self.assertEqual(pending.error_name(), 'Aborted')
        self.assertEqual(writer.count('Abort'), 1)
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertEqual(self.records(), [])


class AddBackupFileRefusedTest(BackupFilesTestCase):
    """Each: the namespaced error naming the path; nothing in the snapshot changes."""

    def test_bad_input(self):
        other = self.subvolume('other')
        os.mkdir(os.path.join(self.db, 'a-directory'))
        os.symlink(self.scratch, os.path.join(self.db, 'link'))
        good = self.source('good', b'good')
        directory = os.open(self.scratch, os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, directory)
        write_only = os.open(os.path.join(self.scratch, 'good'), os.O_WRONLY)
        self.addCleanup(os.close, write_only)
        fifo_path = os.path.join(self.scratch, 'fifo')
        os.mkfifo(fifo_path)
        fifo = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
        self.addCleanup(os.close, fifo)
        sock = socket.socket(socket.AF_UNIX)
        self.addCleanup(sock.close)
        device = os.open('/dev/null', os.O_RDONLY)
        self.addCleanup(os.close, device)
        too_big = os.path.join(self.scratch, 'too-big')
        with open(too_big, 'wb') as f:
            f.truncate(1024 * 1024 * 1024 + 1)
        too_big_fd = os.open(too_big, os.O_RDONLY)
        self.addCleanup(os.close, too_big_fd)
        in_db = os.path.join(self.db, 'x')
        cases = [
            # (path, fd, error, named in the message)
            (os.path.join(self.volume, 'live'), good, 'NotAuthorized', 'live'),
            (os.path.join(other, 'x'), good, 'NotAuthorized', other),
            ('/etc/passwd', good, 'NotAuthorized', '/etc/passwd'),
            (os.path.join(self.db, '..', 'live'), good, 'InvalidArgument', '..'),
            ('relative/x', good, 'InvalidArgument', 'relative/x'),
            (os.path.join(self.db, 'link', 'x'), good, 'InvalidArgument', 'symbolic link'),
            (os.path.join(self.db, 'a-directory'), good, 'InvalidArgument', 'a-directory'),
            (in_db, directory, 'InvalidArgument', 'directory'),
            (in_db, fifo, 'InvalidArgument', 'pipe'),
            (in_db, sock.fileno(), 'InvalidArgument', 'socket'),
            (in_db, device, 'InvalidArgument', 'device'),
            (in_db, write_only, 'InvalidArgument', 'reading'),
            (in_db, too_big_fd, 'LimitReached', 'x'),
        ]
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([(p, fd) for p, fd, _, _ in cases])})
        everywhere = self.writer('everywhere', script={
            'PostSnapshot': post_snapshot_adding([(in_db, good)])})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume, other])
        backup.DoSnapshotSet()
        self.assertEqual(writer.added, [error for _, _, error, _ in cases])
        # a writer without paths may add none
        self.assertEqual(everywhere.added, ['NotAuthorized'])
        snapshot = self.snapshot_dir()
        # (.vss-snapshots shows as an empty directory: it is another subvolume)
        self.assertEqual(sorted(os.listdir(snapshot)), ['.vss-snapshots', 'db', 'live'])
        self.assertEqual(sorted(os.listdir(os.path.join(snapshot, 'db'))),
                         ['a-directory', 'link'])
        with open(os.path.join(snapshot, 'live'), 'rb') as f:
            self.assertEqual(f.read(), b'live data')
        backup.Release()

    def test_messages_name_the_path(self):
        good = self.source('good', b'good')
        outside = os.path.join(self.volume, 'live')
        errors = []

        def add_outside(writer, event):
            pending = writer.add_backup_file(event.serial, outside, good)
            pending.on_done = lambda p: (errors.append(p.error), writer.ack(event.serial))

        self.writer('db', options={'paths': [self.db]}, script={'PostSnapshot': add_outside})
        backup = self.backup()
        [error] = errors
        self.assertEqual(error.name, 'NotAuthorized')
        self.assertIn(outside, error.message)
        self.assertIn("'db'", error.message)
        backup.Release()

    def test_serial_that_is_not_a_pending_post_snapshot(self):
        good = self.source('good', b'good')
        path = os.path.join(self.db, 'x')
        results = {}

        def freeze(writer, event):
            # Freeze is not PostSnapshot
            results['freeze'] = writer.add_backup_file(event.serial, path, good)
            writer.ack(event.serial)

        def post_snapshot(writer, event):
            results['never sent'] = writer.add_backup_file(event.serial + 1000, path, good)
            results['earlier'] = writer.add_backup_file(writer.last('Freeze').serial, path, good)
            writer.ack(event.serial)

        writer = self.writer('db', options={'paths': [self.db]},
                             script={'Freeze': freeze, 'PostSnapshot': post_snapshot})
        backup = self.backup()
        self.assertEqual({k: p.error_name() for k, p in results.items()},
                         {'freeze': 'BadState', 'never sent': 'InvalidArgument',
                          'earlier': 'BadState'})
        # once PostSnapshot is answered, it is too late
        late = writer.add_backup_file(writer.last('PostSnapshot').serial, path, good)
        self.assertEqual(late.error_name(), 'BadState')
        self.assertFalse(os.path.exists(os.path.join(self.snapshot_dir(), 'db', 'x')))
        backup.Release()

    def test_only_the_owner_may_add(self):
        good = self.source('good', b'good')
        intruder = self.client()

        def post_snapshot(writer, event):
            writer.intruded = intruder.call_async(
                writer.path, 'org.freedesktop.Vss1.Writer', 'AddBackupFile',
                _variant('(tsh)', (event.serial, os.path.join(self.db, 'x'), 0)), fds=[good])
            writer.intruded.on_done = lambda p: writer.ack(event.serial)

        writer = self.writer('db', options={'paths': [self.db]},
                             script={'PostSnapshot': post_snapshot})
        backup = self.backup()
        self.assertEqual(writer.intruded.error_name(), 'NotAuthorized')
        backup.Release()

    def test_writer_killed_while_adding_a_file(self):
        """fault: the writer's connection goes while its file is being added"""
        big = self.source('big', b'\x01' * (64 * 1024 * 1024))

        def add_and_leave(writer, event):
            writer.add_backup_file(event.serial, os.path.join(self.db, 'big'), big)
            writer.connection.flush_sync(None)
            writer.close()

        self.writer('db', options={'paths': [self.db]}, script={'PostSnapshot': add_and_leave})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume])
        # a writer that leaves with PostSnapshot pending has failed it
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        backup.AbortBackup()
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertEqual(self.records(), [])
        spin(0.2)
        self.assertTrue(self.vssd.running())


class NestedSubvolumeTest(BackupFilesTestCase):
    """A writer's path may hold subvolumes: a file goes into the snapshot of
    the subvolume that holds it, never into a placeholder of another."""

    def nested(self, name):
        path = self.btrfs.create_subvolume(
            os.path.join(os.path.basename(self.volume), 'db', name))
        self.addCleanup(self.btrfs.delete_subvolume_tree, path)
        return path

    def test_a_file_below_a_nested_subvolume_of_the_set_goes_into_its_snapshot(self):
        wal = self.nested('wal')
        segment = self.source('segment', b'wal segment')
        writer = self.writer('db', options={'paths': [self.db]}, script={
            'PostSnapshot': post_snapshot_adding([(os.path.join(wal, 'seg'), segment)])})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume, wal])
        backup.DoSnapshotSet()
        self.assertEqual(writer.added, [None])
        [wal_snapshot] = self.snapshots_on_disk(wal)
        with open(os.path.join(wal, '.vss-snapshots', wal_snapshot, 'seg'), 'rb') as f:
            self.assertEqual(f.read(), b'wal segment')
        # the outer snapshot shows wal as the empty placeholder it is
        self.assertEqual(os.listdir(os.path.join(self.snapshot_dir(), 'db', 'wal')), [])
        self.assertFalse(os.path.exists(os.path.join(wal, 'seg')))
        backup.Release()

    def test_a_file_below_a_nested_subvolume_not_in_the_set_is_refused(self):
        cache = self.nested('cache')
        good = self.source('good', b'good')
        errors = []

        def add(writer, event):
            pending = writer.add_backup_file(event.serial, os.path.join(cache, 'x'), good)
            pending.on_done = lambda p: (errors.append(p.error), writer.ack(event.serial))

        self.writer('db', options={'paths': [self.db]}, script={'PostSnapshot': add})
        backup = self.backup()
        [error] = errors
        self.assertEqual(error.name, 'InvalidArgument')
        self.assertIn('db/cache', error.message)
        self.assertIn('not in the snapshot set', error.message)
        self.assertEqual(os.listdir(os.path.join(self.snapshot_dir(), 'db', 'cache')), [])
        backup.Release()

    def test_the_root_of_a_subvolume_of_the_set_is_no_place_for_a_file(self):
        good = self.source('good', b'good')
        errors = []

        def add(writer, event):
            pending = writer.add_backup_file(event.serial, self.volume, good)
            pending.on_done = lambda p: (errors.append(p.error), writer.ack(event.serial))

        self.writer('everything', options={'paths': [self.volume]}, script={'PostSnapshot': add})
        backup = self.backup()
        [error] = errors
        self.assertEqual(error.name, 'InvalidArgument')
        self.assertIn(self.volume, error.message)
        self.assertEqual(sorted(os.listdir(self.snapshot_dir())), ['.vss-snapshots', 'db', 'live'])
        backup.Release()


def physical_extents(path):
    """The physical offsets of @path's extents, as filefrag reports them."""
    out = subprocess.run(['filefrag', '-v', '-b4096', path], check=True, capture_output=True,
                         text=True).stdout
    extents = []
    for line in out.splitlines():
        fields = line.replace(':', ' ').replace('..', ' ').split()
        if fields and fields[0].isdigit() and len(fields) > 4:
            extents.append(fields[3])
    return extents


def _variant(signature, value):
    from gi.repository import GLib
    return GLib.Variant(signature, value)


if __name__ == '__main__':
    unittest.main()
