#!/usr/bin/python3
"""Which writers take part in a backup (docs/design.md §4a), what they are told,
and what GatherWriterStatus and the Snapshots property show (§3, §4).

A writer registered with `paths` takes part only in backups whose set holds
the subvolume that holds one of its paths; it learns only those paths and the
snapshots of their subvolumes. Each test reads as a requester and its
writers would see it on the bus.
"""

import os
import unittest

from vsstest import (BACKUP_IFACE, VSS_PATH, VssTestCase, iterate_until, spin)

FULL_BACKUP = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
               'PostSnapshot', 'BackupComplete', 'BackupShutdown']


class ScopingTestCase(VssTestCase):
    def data_dir(self, volume, name='db'):
        """A directory inside @volume, where a writer keeps its data."""
        path = os.path.join(volume, name)
        os.makedirs(path, exist_ok=True)
        return path

    def full_backup(self, volumes, context=None):
        backup = self.requester()
        self.backup_until_prepared(backup, volumes, context=context)
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        return backup


class PathScopingTest(ScopingTestCase):
    def test_writer_without_paths_takes_part_in_every_backup(self):
        writer = self.writer('everywhere')
        self.full_backup([self.subvolume('a')])
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_BACKUP)

    def test_backup_of_another_subvolume_sends_nothing_after_identify(self):
        mine = self.subvolume('mine')
        other = self.subvolume('other')
        writer = self.writer('db', options={'paths': [self.data_dir(mine)]})
        everywhere = self.writer('everywhere')
        self.full_backup([other])
        everywhere.wait_for('BackupShutdown')
        spin(0.2)
        # a backup of /home never freezes a database in /var/lib
        self.assertEqual(writer.names(), ['Identify'])
        self.assertEqual(writer.prop('State'), 'stable')

    def test_backup_of_its_subvolume_freezes_it(self):
        mine = self.subvolume('mine')
        path = self.data_dir(mine)
        writer = self.writer('db', options={'paths': [path]})
        self.full_backup([mine])
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_BACKUP)

    def test_affected_paths_and_what_a_writer_learns(self):
        mine = self.subvolume('mine')
        other = self.subvolume('other')
        path = self.data_dir(mine)
        elsewhere = '/nonexistent/vss-test/db'
        writer = self.writer('db', options={'paths': [path, elsewhere]})
        everywhere = self.writer('everywhere')
        backup = self.requester()
        self.backup_until_prepared(backup, [mine, other])
        backup.DoSnapshotSet()
        writer.wait_for('PostSnapshot')
        # from PrepareForBackup on, only its own paths that lie in the set
        for event in writer.events[1:]:
            self.assertEqual(event.details['affected-paths'], [path], event)
        self.assertNotIn('affected-paths', writer.events[0].details)
        # it learns only the subvolume that holds its data, and its snapshot
        self.assertEqual(writer.last('PrepareForBackup').details['volumes'], [mine])
        self.assertEqual(list(writer.last('PostSnapshot').details['snapshots']), [mine])
        # a writer without paths takes part in everything and learns all of it
        everywhere.wait_for('PostSnapshot')
        self.assertNotIn('affected-paths', everywhere.last('Freeze').details)
        self.assertEqual(sorted(everywhere.last('PrepareForBackup').details['volumes']),
                         sorted([mine, other]))
        self.assertEqual(sorted(everywhere.last('PostSnapshot').details['snapshots']),
                         sorted([mine, other]))
        backup.BackupComplete()
        backup.Release()

    def test_nested_subvolume_is_another_subvolume(self):
        outer = self.subvolume('outer')
        nested = self.btrfs.create_subvolume(os.path.join(os.path.basename(outer), 'nested'))
        path = self.data_dir(nested)
        writer = self.writer('db', options={'paths': [path]})
        self.full_backup([outer])
        spin(0.2)
        # the string /outer/nested/db starts with /outer, but it lies in
        # another subvolume, which is not in the set
        self.assertEqual(writer.names(), ['Identify'])
        self.btrfs.delete_subvolume_tree(nested)

    def test_path_that_does_not_exist_lies_in_no_subvolume(self):
        volume = self.subvolume('v')
        writer = self.writer('db', options={'paths': [os.path.join(volume, 'not-yet')]})
        self.full_backup([volume])
        spin(0.2)
        self.assertEqual(writer.names(), ['Identify'])

    def test_adding_a_volume_of_an_unprepared_writer_fails(self):
        mine = self.subvolume('mine')
        other = self.subvolume('other')
        writer = self.writer('db', options={'paths': [self.data_dir(mine)]})
        backup = self.requester()
        self.backup_until_prepared(backup, [other])
        error = self.assertCallFails('BadState', backup.AddToSnapshotSet, mine)
        self.assertIn("'db'", error.message)
        self.assertIn(mine, error.message)
        # nothing changed: the set holds what it held
        backup.DoSnapshotSet()
        self.assertEqual(self.snapshots_on_disk(mine), [])
        self.assertEqual(len(self.snapshots_on_disk(other)), 1)
        self.assertEqual(writer.names(), ['Identify'])
        backup.AbortBackup()
        backup.Release()

    def test_volume_added_after_prepare_counts_for_affected_paths(self):
        first = self.subvolume('first')
        second = self.subvolume('second')
        in_first = self.data_dir(first)
        in_second = self.data_dir(second)
        writer = self.writer('db', options={'paths': [in_first, in_second]})
        backup = self.requester()
        self.backup_until_prepared(backup, [first])
        self.assertEqual(writer.last('PrepareForBackup').details['affected-paths'], [in_first])
        # it takes part already: adding its other subvolume is allowed, and the
        # next events see the set as it stands
        backup.AddToSnapshotSet(second)
        backup.DoSnapshotSet()
        self.assertEqual(sorted(writer.last('Freeze').details['affected-paths']),
                         sorted([in_first, in_second]))
        backup.BackupComplete()
        backup.Release()

    def test_paths_must_be_canonical_without_symlinks(self):
        volume = self.subvolume('v')
        os.symlink(volume, os.path.join(self.btrfs.path(), 'link-to-v'))
        for bad in ('relative/db', f'{volume}/../x', f'{volume}//db', f'{volume}/',
                    self.btrfs.path('link-to-v', 'db')):
            with self.subTest(path=bad):
                client = self.client()
                error = self.assertCallFails(
                    'InvalidArgument', client.call, VSS_PATH,
                    'org.freedesktop.Vss1.Manager', 'RegisterWriter',
                    _variant('(sa{sv})', ('db', {'paths': _variant('as', [bad])})))
                self.assertIn("'paths'", error.message)
        self.assertEqual(self.objects_of_kind('Writer'), [])

    def objects_of_kind(self, kind):
        return [p for p in self.client().managed_objects() if f'/{kind}/' in p]


class WriterStatusTest(ScopingTestCase):
    def test_failed_identify_is_listed(self):
        good = self.writer('good')
        bad = self.writer('bad', script={'Identify': ('fail', 'non-retryable', 'no config')})
        backup = self.requester()
        backup.InitializeForBackup()
        # GatherWriterMetadata returns the writers that answered
        self.assertEqual([p for p, _, _ in backup.GatherWriterMetadata()], [good.path])
        # GatherWriterStatus also lists those that failed Identify
        # (VSS_WS_FAILED_AT_IDENTIFY), with the failure and the message
        self.assertEqual(backup.GatherWriterStatus(), [
            (good.path, 'good', 'stable', '', ''),
            (bad.path, 'bad', 'failed-at-identify', 'non-retryable', 'no config'),
        ])
        backup.StartSnapshotSet()
        backup.AddToSnapshotSet(self.subvolume('v'))
        backup.PrepareForBackup()
        status = {path: state for path, _, state, _, _ in backup.GatherWriterStatus()}
        self.assertEqual(status, {good.path: 'stable', bad.path: 'failed-at-identify'})
        # and it gets nothing more of this backup
        self.assertEqual(bad.names(), ['Identify'])
        backup.AbortBackup()
        backup.Release()

    def test_timed_out_identify_is_listed(self):
        slow = self.writer('slow', options={'event-timeout-ms': 200}, script={'Identify': 'hang'})
        backup = self.requester()
        backup.InitializeForBackup()
        self.assertEqual(backup.GatherWriterMetadata(), [])
        [(path, name, state, failure, _message)] = backup.GatherWriterStatus()
        self.assertEqual((path, name, state, failure),
                         (slow.path, 'slow', 'failed-at-identify', 'timeout'))

    def test_status_after_prepare_lists_the_writers_that_take_part(self):
        mine = self.subvolume('mine')
        other = self.subvolume('other')
        left_out = self.writer('left-out', options={'paths': [self.data_dir(other)]})
        taking_part = self.writer('taking-part', options={'paths': [self.data_dir(mine)]})
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        # before PrepareForBackup: every writer that answered Identify
        self.assertEqual([p for p, *_ in backup.GatherWriterStatus()],
                         [left_out.path, taking_part.path])
        backup.StartSnapshotSet()
        backup.AddToSnapshotSet(mine)
        backup.PrepareForBackup()
        self.assertEqual([p for p, *_ in backup.GatherWriterStatus()], [taking_part.path])
        backup.AbortBackup()
        backup.Release()


class SnapshotsPropertyTest(ScopingTestCase):
    """BackupComponents.Snapshots lists exactly the snapshots that exist (§3)."""

    def watch_snapshots(self, backup):
        seen = []

        def changed(connection, sender, path, interface, signal, params):
            iface, props, _ = params.unpack()
            if path == backup.path and iface == BACKUP_IFACE and 'Snapshots' in props:
                seen.append(props['Snapshots'])

        backup.client.connection.signal_subscribe(
            None, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', backup.path, None,
            0, changed)
        return seen

    def snapshot_objects(self):
        return sorted(p for p in self.client().managed_objects() if '/Snapshot/' in p)

    def test_abort_empties_the_property_and_the_objects(self):
        volumes = [self.subvolume('a'), self.subvolume('b')]
        writer = self.writer('db', script={'PostSnapshot': ('fail', 'retryable', 'x')})
        backup = self.requester()
        seen = self.watch_snapshots(backup)
        self.backup_until_prepared(backup, volumes)
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        # the snapshots exist until the abort: listed, as objects too
        listed = backup.prop('Snapshots')
        self.assertEqual(len(listed), 2)
        self.assertEqual(sorted(listed), self.snapshot_objects())
        self.assertEqual([len(self.snapshots_on_disk(v)) for v in volumes], [1, 1])
        backup.AbortBackup()
        writer.wait_for('Abort')
        self.assertEqual([self.snapshots_on_disk(v) for v in volumes], [[], []])
        self.assertEqual(backup.prop('Snapshots'), [])
        self.assertEqual(self.snapshot_objects(), [])
        iterate_until(lambda: seen and seen[-1] == [], what='PropertiesChanged to []')
        self.assertIn(sorted(listed), [sorted(s) for s in seen])

    def test_failed_do_snapshot_set_lists_nothing(self):
        volume = self.subvolume('v')
        self.writer('vetoes', script={'Freeze': ('fail', 'retryable', 'busy')})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(backup.prop('Snapshots'), [])
        self.assertEqual(self.snapshot_objects(), [])

    def test_release_of_a_backup_context_set_empties_it(self):
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        self.assertEqual(len(backup.prop('Snapshots')), 1)
        backup.BackupComplete()
        backup.Release()
        iterate_until(lambda: self.snapshots_on_disk(volume) == [], what='the snapshot to go')
        self.assertEqual(self.snapshot_objects(), [])


def _variant(signature, value):
    from gi.repository import GLib
    return GLib.Variant(signature, value)


if __name__ == '__main__':
    unittest.main()
