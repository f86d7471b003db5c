#!/usr/bin/python3
"""Manager.CreateSnapshotSet: one whole backup in one call (docs/design.md §4b).

Each test is what a script or `busctl` user does with one call, and what the
writers and the disk show afterwards: the same events as the long form, for
the writers that take part only, and every abort rule inside the call.
"""

import os
import unittest

import btrfsutil
from gi.repository import GLib

from vsstest import (BACKUP_IFACE, SNAPSHOT_IFACE, VssTestCase, iterate_until, spin)

ONE_CALL = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
            'PostSnapshot', 'BackupComplete', 'BackupShutdown']


class CreateSnapshotSetTestCase(VssTestCase):
    def data_dir(self, volume, name='db'):
        path = os.path.join(volume, name)
        os.makedirs(path, exist_ok=True)
        return path

    def snapshot_props(self, objects):
        managed = self.client().managed_objects()
        return [managed[o][SNAPSHOT_IFACE] for o in objects]

    def assertNothingLeft(self, *volumes):
        for volume in volumes:
            self.assertEqual(self.snapshots_on_disk(volume), [], volume)
        self.assertEqual(self.records(), [])
        self.assertEqual([p for p in self.client().managed_objects() if '/Snapshot/' in p], [])

    def assertSetInProgressFree(self):
        """rule 10: the call holds the set lock no longer"""
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        backup.StartSnapshotSet()
        backup.Release()


class OneCallTest(CreateSnapshotSetTestCase):
    def test_one_call_makes_a_read_only_persistent_snapshot(self):
        volume = self.subvolume('data', {'db': b'rows'})
        set_id, objects = self.client().create_snapshot_set([volume])
        [props] = self.snapshot_props(objects)
        self.assertEqual(props['SnapshotSetId'], set_id)
        self.assertEqual(props['SourcePath'], volume)
        self.assertEqual(props['Context'], 'persistent')
        self.assertEqual(props['Description'], '')
        self.assertTrue(btrfsutil.get_subvolume_read_only(props['SnapshotPath']))
        with open(os.path.join(props['SnapshotPath'], 'db'), 'rb') as f:
            self.assertEqual(f.read(), b'rows')
        self.assertEqual(self.records(), [set_id + '.set'])
        # it outlives the caller, and DeleteSnapshotSet removes it
        admin = self.client()
        admin.delete_snapshot_set(set_id)
        self.assertNothingLeft(volume)

    def test_snapshots_in_the_order_of_the_paths_with_description(self):
        volumes = [self.subvolume(n) for n in ('c', 'a', 'b')]
        set_id, objects = self.client().create_snapshot_set(
            volumes, {'description': 'nightly — before the upgrade'})
        props = self.snapshot_props(objects)
        self.assertEqual([p['SourcePath'] for p in props], volumes)
        self.assertEqual({p['Description'] for p in props}, {'nightly — before the upgrade'})
        self.assertEqual({p['SnapshotSetId'] for p in props}, {set_id})

    def test_writers_frozen_around_it_and_only_those_that_take_part(self):
        volume = self.subvolume('data')
        elsewhere = self.subvolume('elsewhere')
        mine = self.writer('mine', options={'paths': [self.data_dir(volume)]})
        everywhere = self.writer('everywhere')
        other = self.writer('other', options={'paths': [self.data_dir(elsewhere)]})
        self.client().create_snapshot_set([volume])
        for writer in (mine, everywhere):
            self.assertEqual(writer.names(), ONE_CALL)
        # not even Identify to a writer that does not take part
        self.assertEqual(other.names(), [])
        # the events name an internal backup object that is not exported
        backup_path = mine.events[0].backup
        self.assertNotIn(backup_path, self.client().managed_objects())
        self.assertSetInProgressFree()

    def test_without_writers_no_event_at_all(self):
        volume = self.subvolume('data')
        writer = self.writer('everywhere')
        set_id, objects = self.client().create_snapshot_set([volume], {'writers': False})
        self.assertEqual(len(objects), 1)
        spin(0.2)
        self.assertEqual(writer.names(), [])

    def test_context_backup_goes_with_the_caller(self):
        volume = self.subvolume('data')
        caller = self.client()
        set_id, objects = caller.create_snapshot_set([volume], {'context': 'backup'})
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.assertEqual(self.snapshot_props(objects)[0]['Context'], 'backup')
        caller.close()
        iterate_until(lambda: self.snapshots_on_disk(volume) == [],
                      what='the set to go with its caller')
        iterate_until(lambda: self.records() == [], what='its record to go')

    def test_busctl_style_bytes(self):
        """What a newcomer types: busctl call … CreateSnapshotSet asa{sv} 1 PATH 0"""
        volume = self.subvolume('data')
        result = self.client().call(
            '/org/freedesktop/Vss1', 'org.freedesktop.Vss1.Manager', 'CreateSnapshotSet',
            GLib.Variant('(asa{sv})', ([volume], {})))
        set_id, objects = result
        self.assertEqual(len(objects), 1)
        self.client().delete_snapshot_set(set_id)
        self.assertNothingLeft(volume)


class OneCallAbortTest(CreateSnapshotSetTestCase):
    """Every abort rule holds inside the call: Abort, nothing left, the error
    DoSnapshotSet would give, BackupShutdown last."""

    def test_veto_aborts_and_leaves_nothing(self):
        volume = self.subvolume('data')
        a = self.writer('a')
        b = self.writer('b', script={'Freeze': ('fail', 'retryable', 'busy, try later')})
        error = self.assertCallFails('WriterFailure', self.client().create_snapshot_set, [volume])
        self.assertIn("'b'", error.message)
        self.assertIn('busy, try later', error.message)
        for writer in (a, b):
            self.assertEqual(writer.names()[-2:], ['Abort', 'BackupShutdown'])
            self.assertEqual(writer.count('Abort'), 1)
            self.assertFalse(writer.is_frozen())
        self.assertNothingLeft(volume)
        self.assertSetInProgressFree()

    def test_freeze_timeout_aborts(self):
        volume = self.subvolume('data')
        a = self.writer('a')
        slow = self.writer('slow', options={'freeze-timeout-ms': 300}, script={'Freeze': 'hang'})
        self.assertCallFails('WriterFailure', self.client().create_snapshot_set, [volume])
        for writer in (a, slow):
            self.assertIn('Abort', writer.names())
        self.assertNothingLeft(volume)

    def test_provider_failure_aborts(self):
        volume = self.subvolume('data')

        # the subvolume goes away after PrepareForSnapshot: the snapshot fails
        def vanish(writer, event):
            self.btrfs.delete_subvolume_tree(volume)
            writer.ack(event.serial)

        writer = self.writer('w', script={'PrepareForSnapshot': vanish})
        self.assertCallFails('ProviderFailure', self.client().create_snapshot_set, [volume])
        self.assertEqual(writer.names()[-2:], ['Abort', 'BackupShutdown'])
        self.assertEqual(self.records(), [])

    def test_prepare_for_backup_failure_fails_the_call_after_an_abort(self):
        volume = self.subvolume('data')
        a = self.writer('a')
        b = self.writer('b', script={'PrepareForBackup': ('fail', 'non-retryable', 'no')})
        self.assertCallFails('WriterFailure', self.client().create_snapshot_set, [volume])
        # rule 2 as AbortBackup would; then BackupShutdown
        for writer in (a, b):
            self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'Abort',
                                              'BackupShutdown'])
        self.assertNothingLeft(volume)

    def test_prepare_for_snapshot_failure(self):
        volume = self.subvolume('data')
        a = self.writer('a', script={'PrepareForSnapshot': ('fail', 'retryable', 'checkpoint')})
        self.assertCallFails('WriterFailure', self.client().create_snapshot_set, [volume])
        self.assertEqual(a.names(), ['Identify', 'PrepareForBackup', 'PrepareForSnapshot',
                                     'Abort', 'BackupShutdown'])
        self.assertNothingLeft(volume)

    def test_post_snapshot_failure(self):
        volume = self.subvolume('data')
        ok = self.writer('ok')
        failing = self.writer('failing', script={'PostSnapshot': ('fail', 'retryable', 'wal')})
        self.assertCallFails('WriterFailure', self.client().create_snapshot_set, [volume])
        # a failed PostSnapshot is not a completed one (rule 2)
        self.assertEqual(failing.names()[-3:], ['PostSnapshot', 'Abort', 'BackupShutdown'])
        self.assertNotIn('Abort', ok.names())
        self.assertNothingLeft(volume)

    def test_backup_complete_failure_does_not_fail_the_call(self):
        volume = self.subvolume('data')
        writer = self.writer('w', script={'BackupComplete': ('fail', 'retryable', 'log')})
        set_id, objects = self.client().create_snapshot_set([volume])
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.assertEqual(writer.names(), ONE_CALL)
        self.assertEqual(writer.prop('State'), 'failed-at-backup-complete')

    def test_caller_leaving_mid_call_aborts(self):
        volume = self.subvolume('data')
        writer = self.writer('w', script={'Freeze': 'hang'})
        caller = self.client()
        caller.create_snapshot_set_async([volume])
        writer.wait_for('Freeze')
        caller.close()
        writer.wait_for('Abort')
        writer.wait_for('BackupShutdown')
        self.assertNothingLeft(volume)
        self.assertSetInProgressFree()


class OneCallRule10Test(CreateSnapshotSetTestCase):
    def test_refused_while_another_set_is_in_progress(self):
        volume = self.subvolume('data')
        writer = self.writer('w')
        other = self.requester()
        other.InitializeForBackup()
        other.GatherWriterMetadata()
        other.StartSnapshotSet()
        count_before = len(writer.events)
        self.assertCallFails('SnapshotSetInProgress', self.client().create_snapshot_set,
                             [volume])
        # refused before any event went out
        self.assertEqual(len(writer.events), count_before)
        self.assertNothingLeft(volume)

    def test_it_is_a_set_in_progress_for_others(self):
        volume = self.subvolume('data')
        writer = self.writer('w', script={'Freeze': 'hang'})
        pending = self.client().create_snapshot_set_async([volume])
        writer.wait_for('Freeze')
        other = self.requester()
        other.InitializeForBackup()
        other.GatherWriterMetadata()
        self.assertCallFails('SnapshotSetInProgress', other.StartSnapshotSet)
        writer.ack(writer.last('Freeze').serial)
        set_id, _ = pending.wait()
        other.StartSnapshotSet()


class OneCallBadInputTest(CreateSnapshotSetTestCase):
    """Bad input: the namespaced error naming the path or key; nothing happens."""

    def test_bad_input(self):
        volume = self.subvolume('data')
        plain = os.path.join(volume, 'plain')
        os.mkdir(plain)
        link = self.btrfs.path('link-to-data')
        os.symlink(volume, link)
        writer = self.writer('w')
        cases = [
            ([], {}, 'InvalidArgument', '0 paths'),
            ([volume, volume], {}, 'InvalidArgument', volume),
            ([volume] * 65, {}, 'LimitReached', '65'),
            (['relative/path'], {}, 'InvalidArgument', 'relative/path'),
            ([volume + '/'], {}, 'InvalidArgument', volume),
            ([volume + '/../data'], {}, 'InvalidArgument', '..'),
            ([link], {}, 'InvalidArgument', 'symbolic link'),
            ([plain], {}, 'VolumeNotSupported', plain),
            (['/nonexistent/vss'], {}, 'ObjectNotFound', '/nonexistent/vss'),
            ([volume], {'colour': 'blue'}, 'InvalidArgument', "'colour'"),
            ([volume], {'context': GLib.Variant('u', 1)}, 'InvalidArgument', "'context'"),
            ([volume], {'context': 'forever'}, 'InvalidArgument', "'context'"),
            ([volume], {'writers': 'yes'}, 'InvalidArgument', "'writers'"),
            ([volume], {'description': 'x' * 257}, 'InvalidArgument', "'description'"),
            ([volume], {'description': 'a\x1b[2Jb'}, 'InvalidArgument', "'description'"),
        ]
        for paths, options, error_name, named in cases:
            with self.subTest(paths=paths[:2], options=list(options)):
                error = self.assertCallFails(error_name, self.client().create_snapshot_set,
                                             paths, options)
                self.assertIn(named, error.message)
        # nothing happened: no snapshot, no record, no event
        self.assertNothingLeft(volume)
        self.assertEqual(writer.names(), [])
        self.assertSetInProgressFree()

    def test_a_description_of_256_bytes_is_fine(self):
        volume = self.subvolume('data')
        _, objects = self.client().create_snapshot_set([volume], {'description': 'é' * 128})
        self.assertEqual(self.snapshot_props(objects)[0]['Description'], 'é' * 128)


if __name__ == '__main__':
    unittest.main()
