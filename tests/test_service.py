#!/usr/bin/python3
"""vssd over the bus: the backup sequence, the abort rules of docs/design.md §4,
snapshots on disk, bad input and ownership. Each test talks to a real vssd
on a private bus, with real btrfs snapshots on a loop-mounted image."""

import os
import time
import unittest

import btrfsutil

from vsstest import (BACKUP_IFACE, SNAPSHOT_IFACE, VSS_PATH, MANAGER_IFACE, VssTestCase,
                     iterate_until, spin)

FULL_CYCLE = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
              'PostSnapshot', 'BackupComplete', 'BackupShutdown']


class HappyPathTest(VssTestCase):
    def test_two_writers_receive_every_event_in_order(self):
        a = self.writer('database')
        b = self.writer('mail store')
        volume = self.subvolume('data', {'table': b'rows'})
        backup = self.requester()
        set_id = self.backup_until_prepared(backup, [volume])
        self.assertEqual(backup.state, 'prepared')
        backup.DoSnapshotSet()
        self.assertEqual(backup.state, 'snapshot-created')
        backup.BackupComplete()
        self.assertEqual(backup.state, 'completed')
        backup.Release()
        for writer in (a, b):
            writer.wait_for('BackupShutdown')
            self.assertEqual(writer.names(), FULL_CYCLE)
            self.assertEqual({e.details['snapshot-set-id'] for e in writer.events[1:]}, {set_id})
            self.assertEqual(writer.reply_errors, [])
        # Freeze tells how long the writer may stay frozen
        self.assertEqual(a.last('Freeze').details['timeout-ms'], 60000)

    def test_snapshot_is_read_only_and_holds_the_files_as_at_freeze(self):
        volume = self.subvolume('data', {'table': b'before'})

        def freeze(writer, event):
            # the application writes its last state, then stops writing
            with open(os.path.join(volume, 'table'), 'wb') as f:
                f.write(b'at freeze')
            writer.ack(event.serial)

        def thaw(writer, event):
            with open(os.path.join(volume, 'table'), 'wb') as f:
                f.write(b'after thaw')
            writer.ack(event.serial)

        writer = self.writer('db', script={'Freeze': freeze, 'Thaw': thaw})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()

        snapshots = writer.last('PostSnapshot').details['snapshots']
        self.assertEqual(list(snapshots), [volume])
        snapshot = snapshots[volume]
        self.assertEqual(os.path.dirname(snapshot), os.path.join(volume, '.vss-snapshots'))
        self.assertTrue(btrfsutil.is_subvolume(snapshot))
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot))
        with open(os.path.join(snapshot, 'table'), 'rb') as f:
            self.assertEqual(f.read(), b'at freeze')
        with open(os.path.join(volume, 'table'), 'rb') as f:
            self.assertEqual(f.read(), b'after thaw')
        # the snapshot is listed on the backup and as its own object
        paths = backup.prop('Snapshots')
        self.assertEqual(len(paths), 1)
        client = backup.client
        self.assertEqual(client.get_property(paths[0], SNAPSHOT_IFACE, 'SnapshotPath'), snapshot)
        self.assertEqual(client.get_property(paths[0], SNAPSHOT_IFACE, 'SourcePath'), volume)
        self.assertEqual(client.get_property(paths[0], SNAPSHOT_IFACE, 'Context'), 'backup')
        self.assertEqual(client.get_property(paths[0], SNAPSHOT_IFACE, 'Provider'), 'btrfs')
        self.assertAlmostEqual(client.get_property(paths[0], SNAPSHOT_IFACE, 'CreationTime') / 1e6,
                               time.time(), delta=60)

    def test_release_deletes_a_backup_context_snapshot(self):
        volume = self.subvolume('data', {'f': b'x'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.assertEqual(len(self.records()), 1)
        backup.BackupComplete()
        backup.Release()
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        self.assertNotIn(backup.path, backup.client.managed_objects())

    def test_persistent_snapshot_stays_and_is_listed_after_restart(self):
        volume = self.subvolume('data', {'f': b'kept'})
        backup = self.requester()
        set_id = self.backup_until_prepared(backup, [volume], context='persistent')
        self.assertEqual(backup.prop('Context'), 'persistent')
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        [snapshot_id] = self.snapshots_on_disk(volume)

        def listed(client):
            found = {}
            for path, interfaces in client.managed_objects().items():
                if SNAPSHOT_IFACE in interfaces:
                    found[path] = interfaces[SNAPSHOT_IFACE]
            return found

        admin = self.client()
        before = listed(admin)
        self.assertEqual(len(before), 1)
        [props] = before.values()
        self.assertEqual(props['Id'], snapshot_id)
        self.assertEqual(props['SnapshotSetId'], set_id)
        self.assertEqual(props['Context'], 'persistent')

        admin.close()
        self.assertEqual(self.vssd.stop(), 0)
        self.vssd.start()
        admin = self.client()
        self.assertEqual(listed(admin), before)
        self.assertEqual(self.snapshots_on_disk(volume), [snapshot_id])

        # and it goes when asked
        [path] = before
        admin.call(path, SNAPSHOT_IFACE, 'Delete')
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(listed(admin), {})
        self.assertEqual(self.records(), [])

    def test_delete_snapshot_set(self):
        volumes = [self.subvolume('a'), self.subvolume('b')]
        backup = self.requester()
        set_id = self.backup_until_prepared(backup, volumes, context='persistent')
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        self.assertEqual([len(self.snapshots_on_disk(v)) for v in volumes], [1, 1])
        admin = self.client()
        admin.delete_snapshot_set(set_id)
        self.assertEqual([self.snapshots_on_disk(v) for v in volumes], [[], []])
        self.assertCallFails('ObjectNotFound', admin.delete_snapshot_set, set_id)

    def test_metadata_and_status(self):
        writer = self.writer('db', options={'class-id': '8f4e3a4e-55b7-4a8e-a0a0-3d6f6a1c2b10',
                                            'paths': ['/var/lib/db']})
        backup = self.requester()
        backup.InitializeForBackup()
        [(path, name, metadata)] = backup.GatherWriterMetadata()
        self.assertEqual((path, name), (writer.path, 'db'))
        self.assertEqual(metadata['class-id'], '8f4e3a4e-55b7-4a8e-a0a0-3d6f6a1c2b10')
        self.assertEqual(metadata['paths'], ['/var/lib/db'])
        self.assertEqual(backup.GatherWriterStatus(), [(writer.path, 'db', 'stable', '', '')])
        self.assertEqual(writer.prop('Name'), 'db')
        self.assertEqual(writer.prop('ClassId'), '8f4e3a4e-55b7-4a8e-a0a0-3d6f6a1c2b10')

    def test_manager_version_and_object_manager(self):
        client = self.client()
        version = client.get_property(VSS_PATH, MANAGER_IFACE, 'Version')
        self.assertRegex(version, r'^\d+\.\d+')
        writer = self.writer('w')
        objects = client.managed_objects()
        self.assertIn(writer.path, objects)
        self.assertEqual(objects[writer.path]['org.freedesktop.Vss1.Writer']['State'], 'stable')

    def test_restore_sends_pre_and_post_restore(self):
        a = self.writer('a')
        b = self.writer('b', script={'PostRestore': ('fail', 'retryable', 'disk busy')})
        backup = self.requester()
        backup.InitializeForRestore()
        self.assertEqual(backup.state, 'restore-initialized')
        backup.GatherWriterMetadata()
        backup.PreRestore()
        self.assertEqual(backup.state, 'pre-restored')
        # a writer failing PostRestore fails the call, and the state advances
        self.assertCallFails('WriterFailure', backup.PostRestore)
        self.assertEqual(backup.state, 'restored')
        self.assertEqual(backup.status_of(b), ('failed-at-post-restore', 'retryable', 'disk busy'))
        backup.Release()
        a.wait_for('BackupShutdown')
        self.assertEqual(a.names(), ['Identify', 'PreRestore', 'PostRestore', 'BackupShutdown'])

    def test_backup_complete_failure_still_completes(self):
        writer = self.writer('w', script={'BackupComplete': ('fail', 'non-retryable', 'oops')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        self.assertCallFails('WriterFailure', backup.BackupComplete)
        self.assertEqual(backup.state, 'completed')
        self.assertEqual(writer.prop('State'), 'failed-at-backup-complete')
        self.assertEqual(writer.prop('Failure'), 'non-retryable')
        self.assertEqual(writer.prop('FailureMessage'), 'oops')


class AbortRulesTest(VssTestCase):
    """docs/design.md §4, one test per rule."""

    def assertNothingOnDisk(self, *volumes):
        for volume in volumes:
            self.assertEqual(self.snapshots_on_disk(volume), [], f'snapshots left in {volume}')
        self.assertEqual(self.records(), [])

    def test_rule1_abort_before_prepare_does_nothing(self):
        writer = self.writer('w')
        volume = self.subvolume('v')
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        backup.StartSnapshotSet()
        backup.AddToSnapshotSet(volume)
        backup.AbortBackup()
        self.assertEqual(backup.state, 'snapshot-set-started')
        backup.Release()
        spin(0.3)
        self.assertEqual(writer.names(), ['Identify'])
        self.assertNothingOnDisk(volume)

    def test_rule2_abort_after_prepare_reaches_every_writer_once(self):
        a = self.writer('a')
        b = self.writer('b', script={'PrepareForBackup': ('fail', 'retryable', 'busy')})
        volume = self.subvolume('v')
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        late = self.writer('registered after Identify')
        backup.StartSnapshotSet()
        backup.AddToSnapshotSet(volume)
        error = self.assertCallFails('WriterFailure', backup.PrepareForBackup)
        self.assertIn("'b'", error.message)
        self.assertEqual(backup.state, 'prepare-failed')
        backup.AbortBackup()
        self.assertEqual(backup.state, 'aborted')
        backup.AbortBackup()  # harmless
        self.assertEqual(backup.state, 'aborted')
        spin(0.2)
        self.assertEqual(a.count('Abort'), 1)
        self.assertEqual(b.count('Abort'), 1)
        self.assertEqual(late.names(), [])
        self.assertNothingOnDisk(volume)

    def test_rule3_freeze_veto_makes_the_service_abort(self):
        a = self.writer('a')
        b = self.writer('b', script={'Freeze': ('fail', 'retryable', 'cannot quiesce')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        error = self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        self.assertIn("'b'", error.message)
        self.assertIn('Freeze', error.message)
        self.assertEqual(backup.state, 'snapshot-failed')
        for writer in (a, b):
            self.assertEqual(writer.count('Abort'), 1)
            self.assertNotIn('Thaw', writer.names())
            self.assertFalse(writer.is_frozen())
        self.assertEqual(backup.status_of(b), ('failed-at-freeze', 'retryable', 'cannot quiesce'))
        self.assertNothingOnDisk(volume)

    def test_rule3_thaw_failure_makes_the_service_abort(self):
        a = self.writer('a')
        b = self.writer('b', script={'Thaw': ('fail', 'non-retryable', 'lost state')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        for writer in (a, b):
            self.assertEqual(writer.count('Abort'), 1)
        self.assertEqual(backup.status_of(b)[0], 'failed-at-thaw')
        self.assertNothingOnDisk(volume)

    def test_rule3_prepare_for_snapshot_failure_sends_no_abort(self):
        a = self.writer('a')
        b = self.writer('b', script={'PrepareForSnapshot': ('fail', 'out-of-resources', 'no memory')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        self.assertEqual(backup.state, 'snapshot-failed')
        spin(0.2)
        for writer in (a, b):
            self.assertNotIn('Abort', writer.names())
            self.assertNotIn('Freeze', writer.names())
        self.assertEqual(backup.status_of(b)[:2], ('failed-at-prepare-snapshot', 'out-of-resources'))
        self.assertEqual(backup.status_of(a)[0], 'waiting-for-freeze')
        self.assertNothingOnDisk(volume)

    def test_rule3_post_snapshot_failure_sends_no_abort(self):
        a = self.writer('a')
        b = self.writer('b', script={'PostSnapshot': ('fail', 'retryable', 'x')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        spin(0.2)
        for writer in (a, b):
            self.assertNotIn('Abort', writer.names())
        self.assertEqual(backup.status_of(b)[0], 'failed-at-post-snapshot')

    def test_rule2_abort_after_a_failed_post_snapshot_aborts_that_writer(self):
        a = self.writer('a')
        b = self.writer('b', script={'PostSnapshot': ('fail', 'retryable', 'x')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        backup.AbortBackup()
        backup.AbortBackup()
        b.wait_for('Abort')
        spin(0.2)
        # Abort once, to the writer that did not complete PostSnapshot only
        self.assertEqual(b.count('Abort'), 1)
        self.assertNotIn('Abort', a.names())
        self.assertEqual(backup.state, 'aborted')
        self.assertNothingOnDisk(volume)

    def test_rule2_abort_after_a_timed_out_post_snapshot_aborts_that_writer(self):
        a = self.writer('a')
        b = self.writer('b', options={'event-timeout-ms': 300}, script={'PostSnapshot': 'hang'})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        self.assertEqual(backup.status_of(b)[:2], ('failed-at-post-snapshot', 'timeout'))
        backup.AbortBackup()
        b.wait_for('Abort')
        spin(0.2)
        self.assertEqual(b.count('Abort'), 1)
        self.assertNotIn('Abort', a.names())
        self.assertNothingOnDisk(volume)

    def test_rule4_abort_after_failed_do_snapshot_set_is_safe(self):
        a = self.writer('a')
        b = self.writer('b', script={'Freeze': ('fail', 'retryable', 'veto')})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        backup.AbortBackup()
        self.assertEqual(backup.state, 'aborted')
        backup.Release()
        for writer in (a, b):
            writer.wait_for('BackupShutdown')
            # at most once per writer per backup
            self.assertEqual(writer.count('Abort'), 1)
        self.assertNothingOnDisk(volume)

    def test_rule5_no_abort_after_post_snapshot(self):
        writer = self.writer('w')
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        backup.AbortBackup()
        self.assertEqual(backup.state, 'aborted')
        self.assertNothingOnDisk(volume)
        backup.Release()
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'PrepareForSnapshot',
                                          'Freeze', 'Thaw', 'PostSnapshot', 'BackupShutdown'])

    def test_rule6_backup_complete_after_abort_is_bad_state(self):
        a = self.writer('a')
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.AbortBackup()
        self.assertCallFails('BadState', backup.BackupComplete)
        self.assertCallFails('BadState', backup.DoSnapshotSet)
        self.assertEqual(backup.state, 'aborted')
        backup.Release()
        a.wait_for('BackupShutdown')
        self.assertEqual(a.names(), ['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'])

    def test_rule7_abort_of_a_restore_is_not_supported(self):
        writer = self.writer('w')
        backup = self.requester()
        backup.InitializeForRestore()
        self.assertCallFails('NotSupported', backup.AbortBackup)
        backup.GatherWriterMetadata()
        backup.PreRestore()
        self.assertCallFails('NotSupported', backup.AbortBackup)
        self.assertEqual(backup.state, 'pre-restored')
        self.assertNotIn('Abort', writer.names())

    def test_rule8_requester_disconnect_after_prepare_aborts(self):
        a = self.writer('a')
        b = self.writer('b')
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.client.close()
        for writer in (a, b):
            writer.wait_for('BackupShutdown')
            self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'Abort',
                                              'BackupShutdown'])
        iterate_until(lambda: backup.path not in self.client().managed_objects(),
                      what='the backup object to go')

    def test_rule8_release_of_a_snapshotted_backup_aborts(self):
        a = self.writer('a', script={'PostSnapshot': ('fail', 'retryable', 'x')})
        b = self.writer('b')
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume], context='persistent')
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        backup.Release()
        for writer in (a, b):
            writer.wait_for('BackupShutdown')
        # a failed PostSnapshot is not a completed one (rule 2): a gets Abort,
        # b acknowledged it and gets none; the abandoned set goes
        self.assertEqual(a.names()[-2:], ['Abort', 'BackupShutdown'])
        self.assertNotIn('Abort', b.names())
        self.assertNothingOnDisk(volume)

    def test_rule9_writer_that_never_answers_freeze(self):
        a = self.writer('a')
        silent = self.writer('silent', options={'freeze-timeout-ms': 500},
                             script={'Freeze': 'hang'})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        start = time.monotonic()
        error = self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 3.0)
        self.assertIn('silent', error.message)
        for writer in (a, silent):
            writer.wait_for('Abort')
            self.assertEqual(writer.count('Abort'), 1)
        self.assertEqual(backup.status_of(silent)[:2], ('failed-at-freeze', 'timeout'))
        self.assertEqual(silent.prop('State'), 'failed-at-freeze')
        self.assertEqual(silent.prop('Failure'), 'timeout')
        self.assertEqual(silent.last('Freeze').details['timeout-ms'], 500)
        # the late answer is refused, not crashed on
        call = silent.ack(silent.pending[0].serial)
        self.assertEqual(call.error_name(), 'BadState')
        self.assertNothingOnDisk(volume)

    def test_rule10_one_snapshot_set_at_a_time(self):
        volume = self.subvolume('v')
        first = self.requester()
        self.backup_until_prepared(first, [volume])
        second = self.requester()
        second.InitializeForBackup()
        second.GatherWriterMetadata()
        self.assertCallFails('SnapshotSetInProgress', second.StartSnapshotSet)
        self.assertEqual(second.state, 'metadata-gathered')
        first.DoSnapshotSet()
        second.StartSnapshotSet()
        self.assertEqual(second.state, 'snapshot-set-started')

    def test_rule10_lock_goes_with_abort_and_release(self):
        volume = self.subvolume('v')
        first = self.requester()
        self.backup_until_prepared(first, [volume])
        second = self.requester()
        second.InitializeForBackup()
        second.GatherWriterMetadata()
        first.AbortBackup()
        second.StartSnapshotSet()
        third = self.requester()
        third.InitializeForBackup()
        third.GatherWriterMetadata()
        self.assertCallFails('SnapshotSetInProgress', third.StartSnapshotSet)
        second.Release()
        third.StartSnapshotSet()

    def test_rule11_abort_during_do_snapshot_set_cancels_it(self):
        a = self.writer('a')
        slow = self.writer('slow', script={'Freeze': 'hang'})
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        pending = backup.call_async('DoSnapshotSet')
        slow.wait_for('Freeze')
        self.assertEqual(backup.state, 'snapshotting')
        backup.AbortBackup()
        self.assertCallFails('Aborted', pending)
        self.assertEqual(backup.state, 'aborted')
        for writer in (a, slow):
            self.assertEqual(writer.count('Abort'), 1)
        self.assertNothingOnDisk(volume)


class ProviderFailureTest(VssTestCase):
    def test_subvolume_deleted_during_prepare_for_snapshot(self):
        first = self.subvolume('first', {'f': b'1'})
        second = self.subvolume('second', {'f': b'2'})

        def delete_second(writer, event):
            self.btrfs.delete_subvolume_tree(second)
            writer.ack(event.serial)

        a = self.writer('a', script={'PrepareForSnapshot': delete_second})
        b = self.writer('b')
        backup = self.requester()
        self.backup_until_prepared(backup, [first, second])
        error = self.assertCallFails('ProviderFailure', backup.DoSnapshotSet)
        self.assertIn(second, error.message)
        for writer in (a, b):
            self.assertEqual(writer.count('Abort'), 1)
            self.assertFalse(writer.is_frozen())
        self.assertEqual(self.snapshots_on_disk(first), [])
        self.assertEqual(self.records(), [])
        self.assertEqual(backup.state, 'snapshot-failed')


class BadInputTest(VssTestCase):
    """Every refusal is a clear error, and changes nothing."""

    def started_backup(self):
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        backup.StartSnapshotSet()
        return backup

    def test_add_to_snapshot_set_refusals(self):
        volume = self.subvolume('v')
        plain = os.path.join(volume, 'plain-directory')
        os.mkdir(plain)
        link = self.btrfs.path('link-' + os.path.basename(volume))
        os.symlink(volume, link)
        self.addCleanup(os.unlink, link)
        readonly = self.subvolume('ro')
        btrfsutil.set_subvolume_read_only(readonly, True)
        self.addCleanup(btrfsutil.set_subvolume_read_only, readonly, False)
        cases = [
            ('relative/path', 'InvalidArgument'),
            (volume + '/../' + os.path.basename(volume), 'InvalidArgument'),
            (volume + '/.', 'InvalidArgument'),
            (volume.replace('/mnt/', '/mnt//'), 'InvalidArgument'),
            (volume + '/', 'InvalidArgument'),
            (link, 'InvalidArgument'),
            (volume + '/does-not-exist', 'ObjectNotFound'),
            ('/proc', 'VolumeNotSupported'),
            (plain, 'VolumeNotSupported'),
            (readonly, 'VolumeNotSupported'),
            ('', 'InvalidArgument'),
        ]
        backup = self.started_backup()
        for path, expected in cases:
            with self.subTest(path=path):
                error = self.assertCallFails(expected, backup.AddToSnapshotSet, path)
                self.assertTrue(error.message)
        backup.AddToSnapshotSet(volume)
        self.assertCallFails('InvalidArgument', backup.AddToSnapshotSet, volume)
        self.assertEqual(backup.state, 'snapshot-set-started')
        for path in (volume, readonly):
            self.assertFalse(os.path.exists(os.path.join(path, '.vss-snapshots')))

    def test_set_context_and_state_errors(self):
        backup = self.requester()
        self.assertCallFails('BadState', backup.StartSnapshotSet)
        self.assertCallFails('BadState', backup.SetContext, 'backup')
        backup.InitializeForBackup()
        self.assertCallFails('BadState', backup.InitializeForBackup)
        self.assertCallFails('InvalidArgument', backup.SetContext, 'forever')
        self.assertEqual(backup.prop('Context'), 'backup')
        backup.GatherWriterMetadata()
        self.assertCallFails('BadState', backup.GatherWriterMetadata)
        self.assertCallFails('BadState', backup.SetContext, 'persistent')
        self.assertCallFails('BadState', backup.PrepareForBackup)
        backup.StartSnapshotSet()
        backup.PrepareForBackup()
        # an empty set
        self.assertCallFails('BadState', backup.DoSnapshotSet)
        self.assertEqual(backup.state, 'prepared')
        self.assertCallFails('BadState', backup.PreRestore)

    def test_writer_registration_refusals(self):
        client = self.client()
        cases = [
            ('', {}, 'InvalidArgument'),
            # a size past a limit of the service (README: "Security model")
            ('x' * 10000, {}, 'LimitReached'),
            ('bell\x07', {}, 'InvalidArgument'),
            ('w', {'freeze-timeout-ms': GLibVariant('i', 5)}, 'InvalidArgument'),
            ('w', {'freeze-timeout-ms': GLibVariant('u', 0)}, 'InvalidArgument'),
            ('w', {'event-timeout-ms': GLibVariant('u', 99999999)}, 'InvalidArgument'),
            ('w', {'class-id': GLibVariant('s', 'not a uuid')}, 'InvalidArgument'),
            ('w', {'paths': GLibVariant('as', ['relative'])}, 'InvalidArgument'),
            ('w', {'no-such-option': GLibVariant('b', True)}, 'InvalidArgument'),
        ]
        for name, options, expected in cases:
            with self.subTest(name=name[:20], options=options):
                self.assertCallFails(expected, client.call, VSS_PATH, MANAGER_IFACE,
                                     'RegisterWriter', GLibVariant('(sa{sv})', (name, options)))
        objects = client.managed_objects()
        self.assertFalse([p for p in objects if '/Writer/' in p])

    def test_writer_reply_refusals(self):
        writer = self.writer('w', script={'Identify': 'hang'})
        backup = self.requester()
        backup.InitializeForBackup()
        pending = backup.call_async('GatherWriterMetadata')
        event = writer.wait_for('Identify')
        self.assertEqual(writer.ack(event.serial + 1000).error_name(), 'InvalidArgument')
        self.assertEqual(writer.fail(event.serial, 'bored', '').error_name(), 'InvalidArgument')
        self.assertEqual(writer.fail(event.serial, '', '').error_name(), 'InvalidArgument')
        self.assertEqual(writer.fail(event.serial, 'retryable', 'm' * 5000).error_name(),
                         'LimitReached')
        self.assertIsNone(writer.ack(event.serial).error_name())
        self.assertEqual(writer.ack(event.serial).error_name(), 'BadState')
        self.assertEqual(len(pending.wait()), 1)

    def test_create_backup_components_refusals(self):
        client = self.client()
        for options in ({'owner': GLibVariant('s', 'nobody')},
                        {'owner': GLibVariant('u', 1)},
                        {'idle-timeout-s': GLibVariant('u', 1)},
                        {'colour': GLibVariant('s', 'red')}):
            with self.subTest(options=options):
                self.assertCallFails('InvalidArgument', client.create_backup, options)
        self.assertFalse([p for p in client.managed_objects() if '/BackupComponents/' in p])

    def test_delete_snapshot_set_refusals(self):
        client = self.client()
        self.assertCallFails('InvalidArgument', client.delete_snapshot_set, 'not-a-uuid')
        self.assertCallFails('InvalidArgument', client.delete_snapshot_set, '')
        self.assertCallFails('ObjectNotFound', client.delete_snapshot_set,
                             '1b4e28ba-2fa1-11d2-883f-0016d3cca427')


class OwnershipTest(VssTestCase):
    def test_other_connection_cannot_drive_a_backup(self):
        backup = self.requester()
        intruder = self.client()
        for method in ('InitializeForBackup', 'GatherWriterMetadata', 'AbortBackup', 'Release'):
            with self.subTest(method=method):
                self.assertCallFails('NotAuthorized', intruder.call, backup.path, BACKUP_IFACE,
                                     method)
        self.assertEqual(backup.state, 'created')
        backup.InitializeForBackup()

    def test_other_connection_cannot_answer_for_a_writer(self):
        writer = self.writer('w', script={'Identify': 'hang'})
        backup = self.requester()
        backup.InitializeForBackup()
        pending = backup.call_async('GatherWriterMetadata')
        event = writer.wait_for('Identify')
        intruder = self.client()
        self.assertCallFails('NotAuthorized', intruder.call, writer.path,
                             'org.freedesktop.Vss1.Writer', 'Ack',
                             GLibVariant('(t)', (event.serial,)))
        self.assertCallFails('NotAuthorized', intruder.call, writer.path,
                             'org.freedesktop.Vss1.Writer', 'Unregister')
        writer.ack(event.serial)
        self.assertEqual(len(pending.wait()), 1)

    def test_user_owned_backup_is_driven_by_any_connection_of_the_uid(self):
        first = self.client()
        backup = first.create_backup({'owner': GLibVariant('s', 'user')})
        first.close()
        # it outlives the connection that made it
        other = self.client()
        other.call(backup.path, BACKUP_IFACE, 'InitializeForBackup')
        self.assertEqual(other.get_property(backup.path, BACKUP_IFACE, 'State'), 'initialized')
        other.call(backup.path, BACKUP_IFACE, 'Release')
        self.assertNotIn(backup.path, other.managed_objects())

    def test_writer_unregisters_and_leaves(self):
        writer = self.writer('w')
        writer.call(writer.path, 'org.freedesktop.Vss1.Writer', 'Unregister')
        self.assertNotIn(writer.path, self.client().managed_objects())
        other = self.writer('x')
        other.close()
        iterate_until(lambda: other.path not in self.client().managed_objects(),
                      what='the writer of a closed connection to go')


class CrashRecoveryTest(VssTestCase):
    def test_sigkill_during_do_snapshot_set_then_restart(self):
        kept = self.subvolume('kept')
        persistent = self.requester()
        self.backup_until_prepared(persistent, [kept], context='persistent')
        persistent.DoSnapshotSet()
        persistent.BackupComplete()
        persistent.Release()
        [kept_id] = self.snapshots_on_disk(kept)

        volume = self.subvolume('v')
        writer = self.writer('w', script={'Thaw': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume], context='persistent')
        backup.call_async('DoSnapshotSet')
        writer.wait_for('Thaw')
        # the snapshot exists, the set is not complete yet
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.assertEqual(len(self.records()), 2)
        self.vssd.kill()

        self.vssd.start()
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.snapshots_on_disk(kept), [kept_id])
        self.assertEqual(len(self.records()), 1)
        listed = [p for p, i in self.client().managed_objects().items() if SNAPSHOT_IFACE in i]
        self.assertEqual(len(listed), 1)

    def test_sigterm_releases_every_backup(self):
        writer = self.writer('w')
        volume = self.subvolume('v')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.vssd.process.terminate()
        writer.wait_for('BackupShutdown')
        self.assertEqual(self.vssd.stop(), 0)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])


def GLibVariant(signature, value):
    from gi.repository import GLib
    return GLib.Variant(signature, value)


if __name__ == '__main__':
    unittest.main()
