#!/usr/bin/python3
"""libvss-gobject through GObject introspection (gi.repository.Vss): Python
writers and a Python requester on a real vssd, and the C API under valgrind.

PyGObject 3.42 has no awaitables: requester calls that writers in this
process must answer run as _async calls while the main loop turns (the
run() helper); a blocking _sync call would keep the writers from answering.
"""

import fcntl
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import btrfsutil
import dbus
import gi

gi.require_version('Vss', '1.0')
from gi.repository import Gio, GLib, Vss  # noqa: E402

from vsstest import NOBODY_UID, VssTestCase, iterate_until, spin  # noqa: E402

GJS = '/usr/bin/gjs'


def run(obj, name, *args):
    """Calls obj.<name>_async(*args) and returns <name>_finish(), turning the loop."""
    box = {}
    getattr(obj, name + '_async')(*args, None, lambda o, res, *_: box.setdefault('res', res))
    iterate_until(lambda: 'res' in box, what=name)
    return getattr(obj, name + '_finish')(box['res'])


def error_code(callable_, *args):
    """The Vss.Error code a call raises, or None."""
    try:
        callable_(*args)
    except GLib.Error as e:
        assert e.matches(Vss.error_quark(), e.code), f'not a Vss.Error: {e}'
        return e.code
    return None


class RecordingWriter(Vss.Writer):
    """A writer that records every handler run; vetoes Freeze when asked."""

    def __init__(self, name, veto=False, **kwargs):
        super().__init__(name=name, **kwargs)
        self.veto = veto
        self.handled = []
        self.self_aborts = []
        self.connect('self-abort', lambda w, reason: self.self_aborts.append(reason))

    def record(self, request):
        local = ' (local)' if request.is_local() else ''
        self.handled.append(request.get_event().value_nick + local)
        return True

    def do_identify(self, request):
        return self.record(request)

    def do_prepare_for_backup(self, request):
        return self.record(request)

    def do_prepare_for_snapshot(self, request):
        return self.record(request)

    def do_freeze(self, request):
        self.record(request)
        if self.veto:
            raise GLib.Error('cannot quiesce the database')
        return True

    def do_thaw(self, request):
        return self.record(request)

    def do_post_snapshot(self, request):
        return self.record(request)

    def do_abort(self, request):
        self.record(request)
        # the default handler thaws a frozen writer
        return Vss.Writer.do_abort(self, request)

    def do_backup_complete(self, request):
        return self.record(request)

    def do_backup_shutdown(self, request):
        return self.record(request)

    def do_pre_restore(self, request):
        return self.record(request)

    def do_post_restore(self, request):
        return self.record(request)

    def count(self, event):
        return sum(1 for h in self.handled if h.split(' ')[0] == event)


class LibraryTestCase(VssTestCase):
    def setUp(self):
        super().setUp()
        # a connection of this test's own: the process-wide system bus
        # singleton would outlive the private bus of a test class
        self.connection = self.client().connection
        self.vss = Vss.Client.new_for_connection(self.connection)

    def vss_writer(self, name, **kwargs):
        writer = RecordingWriter(name, connection=self.connection, **kwargs)
        writer.register_sync(None)
        self.addCleanup(self._unregister, writer)
        return writer

    def _unregister(self, writer):
        if writer.is_registered():
            try:
                writer.unregister_sync(None)
            except GLib.Error:
                pass

    def prepared(self, volumes, context=Vss.SnapshotContext.BACKUP):
        backup = self.vss.create_backup_components_sync(Vss.BackupComponentsFlags.NONE, None)
        backup.initialize_for_backup_sync(None)
        backup.set_context_sync(context, None)
        self.writers_seen = run(backup, 'gather_writer_metadata')
        backup.start_snapshot_set_sync(None)
        for volume in volumes:
            backup.add_to_snapshot_set_sync(volume, None)
        run(backup, 'prepare_for_backup')
        return backup


class PythonWriterTest(LibraryTestCase):
    def test_happy_path(self):
        volume = self.subvolume('data', {'db': b'rows'})
        a = self.vss_writer('a', paths=[os.path.join(volume, 'db')])
        b = self.vss_writer('b')
        backup = self.prepared([volume])
        self.assertEqual([w.props.name for w in self.writers_seen], ['a', 'b'])
        self.assertEqual(list(self.writers_seen[0].get_paths()), [os.path.join(volume, 'db')])
        run(backup, 'do_snapshot_set')
        self.assertEqual(backup.props.state, Vss.BackupState.SNAPSHOT_CREATED)
        [snapshot] = backup.get_snapshots_sync(None)
        self.assertEqual(snapshot.props.source_path, volume)
        with open(os.path.join(snapshot.props.snapshot_path, 'db'), 'rb') as f:
            self.assertEqual(f.read(), b'rows')
        run(backup, 'backup_complete')
        self.assertEqual(backup.props.state, Vss.BackupState.COMPLETED)
        run(backup, 'release')
        for writer in (a, b):
            iterate_until(lambda w=writer: w.count('backup-shutdown') == 1)
            self.assertEqual(writer.handled, ['identify', 'prepare-for-backup',
                                              'prepare-for-snapshot', 'freeze', 'thaw',
                                              'post-snapshot', 'backup-complete',
                                              'backup-shutdown'])
            self.assertFalse(writer.is_frozen())
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_veto_runs_every_abort_handler_once(self):
        volume = self.subvolume('data')
        a = self.vss_writer('a')
        vetoing = self.vss_writer('vetoing', veto=True)
        backup = self.prepared([volume])
        with self.assertRaises(GLib.Error) as caught:
            run(backup, 'do_snapshot_set')
        self.assertTrue(caught.exception.matches(Vss.error_quark(), Vss.Error.WRITER_FAILURE))
        self.assertIn('cannot quiesce the database', caught.exception.message)
        self.assertEqual(backup.props.state, Vss.BackupState.SNAPSHOT_FAILED)
        # as the reference advises, the requester aborts after a failed DoSnapshotSet
        run(backup, 'abort_backup')
        self.assertEqual(backup.props.state, Vss.BackupState.ABORTED)
        spin(0.3)
        for writer in (a, vetoing):
            self.assertEqual(writer.count('abort'), 1, writer.handled)
            # the default abort handler thawed the frozen writer
            self.assertEqual(writer.handled[-2:], ['abort', 'thaw (local)'])
            self.assertFalse(writer.is_frozen())
        [status] = [s for s in backup.gather_writer_status_sync(None)
                    if s.props.name == 'vetoing']
        self.assertEqual(status.props.state, Vss.WriterState.FAILED_AT_FREEZE)
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_backup_complete_after_abort_raises_bad_state(self):
        volume = self.subvolume('data')
        self.vss_writer('a')
        backup = self.prepared([volume])
        run(backup, 'abort_backup')
        self.assertEqual(error_code(backup.backup_complete_sync, None), Vss.Error.BAD_STATE)
        with self.assertRaises(GLib.Error) as caught:
            run(backup, 'backup_complete')
        self.assertTrue(caught.exception.matches(Vss.error_quark(), Vss.Error.BAD_STATE))

    def test_restore_abort_raises_not_supported(self):
        writer = self.vss_writer('a')
        backup = self.vss.create_backup_components_sync(Vss.BackupComponentsFlags.NONE, None)
        backup.initialize_for_restore_sync(None)
        self.assertEqual(backup.props.state, Vss.BackupState.RESTORE_INITIALIZED)
        run(backup, 'gather_writer_metadata')
        run(backup, 'pre_restore')
        self.assertEqual(error_code(backup.abort_backup_sync, None), Vss.Error.NOT_SUPPORTED)
        run(backup, 'post_restore')
        self.assertEqual(backup.props.state, Vss.BackupState.RESTORED)
        self.assertEqual(writer.handled, ['identify', 'pre-restore', 'post-restore'])

    def test_deferred_answer(self):
        volume = self.subvolume('data')
        writer = self.vss_writer('slow flusher')
        held = []

        def prepare_for_snapshot(w, request):
            # flush the database without blocking the main loop
            request.defer()
            held.append(request)
            GLib.timeout_add(200, lambda: (request.complete(), False)[1])
            return True

        writer.connect('prepare-for-snapshot', prepare_for_snapshot)
        backup = self.prepared([volume])
        start = time.monotonic()
        run(backup, 'do_snapshot_set')
        self.assertGreaterEqual(time.monotonic() - start, 0.2)
        self.assertTrue(held[0].is_answered())
        self.assertEqual(backup.props.state, Vss.BackupState.SNAPSHOT_CREATED)

    def test_signal_handler_returning_false_vetoes(self):
        volume = self.subvolume('data')
        writer = self.vss_writer('signals')

        def freeze(w, request):
            request.fail(Vss.WriterFailure.RETRYABLE, 'try again later')
            return False

        writer.connect('freeze', freeze)
        backup = self.prepared([volume])
        with self.assertRaises(GLib.Error) as caught:
            run(backup, 'do_snapshot_set')
        self.assertIn('try again later', caught.exception.message)
        [status] = backup.gather_writer_status_sync(None)
        self.assertEqual(status.props.failure, Vss.WriterFailure.RETRYABLE)

    def test_errors_map_to_the_vss_domain(self):
        backup = self.vss.create_backup_components_sync(Vss.BackupComponentsFlags.NONE, None)
        self.assertEqual(error_code(backup.start_snapshot_set_sync, None), Vss.Error.BAD_STATE)
        backup.initialize_for_backup_sync(None)
        run(backup, 'gather_writer_metadata')
        backup.start_snapshot_set_sync(None)
        self.assertEqual(error_code(backup.add_to_snapshot_set_sync, 'relative', None),
                         Vss.Error.INVALID_ARGUMENT)
        self.assertEqual(error_code(backup.add_to_snapshot_set_sync, '/proc', None),
                         Vss.Error.VOLUME_NOT_SUPPORTED)
        self.assertEqual(error_code(self.vss.delete_snapshot_set_sync,
                                    '1b4e28ba-2fa1-11d2-883f-0016d3cca427', None),
                         Vss.Error.OBJECT_NOT_FOUND)

    def test_calls_without_the_service_raise_service_unavailable(self):
        self.assertEqual(self.vssd.stop(), 0)
        for call in (lambda: self.vss.list_writers_sync(None),
                     lambda: run(self.vss, 'list_snapshots'),
                     lambda: self.vss.create_backup_components_sync(
                         Vss.BackupComponentsFlags.NONE, None),
                     lambda: self.vss.watch()):
            with self.subTest(call=call):
                with self.assertRaises(GLib.Error) as caught:
                    call()
                self.assertTrue(caught.exception.matches(Vss.error_quark(),
                                                         Vss.Error.SERVICE_UNAVAILABLE),
                                caught.exception)
                self.assertIn('org.freedesktop.Vss1', caught.exception.message)
        self.assertIsNone(self.vss.props.name_owner)
        # a failed watch() can be tried again once the service is there
        self.vssd.start()
        self.assertTrue(self.vss.watch())
        self.assertIsNotNone(self.vss.props.name_owner)

    def test_client_watch_follows_a_service_restart(self):
        volume = self.subvolume('v')
        backup = self.prepared([volume], context=Vss.SnapshotContext.PERSISTENT)
        run(backup, 'do_snapshot_set')
        run(backup, 'backup_complete')
        [snapshot] = self.vss.list_snapshots_sync(None)
        backup.release_sync(None)
        writer = self.vss_writer('survivor')
        events, owners = [], []
        for signal_name in ('writer-added', 'writer-removed', 'snapshot-added',
                            'snapshot-removed', 'backup-added', 'backup-removed'):
            self.vss.connect(signal_name, lambda c, obj, name=signal_name: events.append(
                (name, obj if isinstance(obj, str) else obj.get_object_path())))
        self.vss.connect('notify::name-owner', lambda c, p: owners.append(c.props.name_owner))
        other = self.vss.create_backup_components_sync(Vss.BackupComponentsFlags.NONE, None)
        self.assertTrue(self.vss.watch())
        first_owner = self.vss.props.name_owner
        self.assertTrue(first_owner.startswith(':'))
        self.assertCountEqual(events, [('writer-added', writer.get_object_path()),
                                       ('snapshot-added', snapshot.get_object_path()),
                                       ('backup-added', other.get_object_path())])
        events.clear()
        owners.clear()

        # vssd crashes: everything it had is reported gone, once
        old_writer_path = writer.get_object_path()
        self.vssd.kill()
        iterate_until(lambda: owners == [None], what='name-owner to become None')
        spin(0.2)
        self.assertCountEqual(events, [('writer-removed', old_writer_path),
                                       ('snapshot-removed', snapshot.get_object_path()),
                                       ('backup-removed', other.get_object_path())])
        events.clear()

        # vssd is back: the persistent snapshot is listed again and the
        # writer, which registers again by itself, is added, each once
        self.vssd.start()
        iterate_until(lambda: writer.is_registered() and len(events) >= 2,
                      timeout=10, what='the new service objects')
        spin(0.3)
        self.assertEqual(len(owners), 2, owners)
        self.assertNotIn(owners[1], (None, first_owner))
        self.assertEqual(self.vss.props.name_owner, owners[1])
        self.assertCountEqual(events, [('writer-added', writer.get_object_path()),
                                       ('snapshot-added', snapshot.get_object_path())])
        self.assertEqual([w.props.name for w in self.vss.list_writers_sync(None)],
                         ['survivor'])

    def test_client_watch_reports_writers(self):
        added, changed, removed = [], [], []
        self.vss.connect('writer-added', lambda c, w: added.append(w.props.name))
        self.vss.connect('writer-removed', lambda c, path: removed.append(path))
        self.vss.connect('writer-changed', lambda c, w: changed.append(w.props.state))
        self.vss.watch()
        writer = self.vss_writer('watched', veto=True)
        iterate_until(lambda: added == ['watched'])
        volume = self.subvolume('v')
        backup = self.prepared([volume])
        with self.assertRaises(GLib.Error):
            run(backup, 'do_snapshot_set')
        iterate_until(lambda: Vss.WriterState.FAILED_AT_FREEZE in changed)
        path = writer.get_object_path()
        writer.unregister_sync(None)
        iterate_until(lambda: removed == [path])


class CreateSnapshotSetTest(LibraryTestCase):
    """vss_client_create_snapshot_set_*: one call, one whole backup (DESIGN.md §4b)."""

    def create(self, paths, context=Vss.SnapshotContext.PERSISTENT, description=None,
               flags=Vss.CreateSnapshotSetFlags.NONE, client=None):
        # asynchronous: the writers of this process answer from its main loop
        return run(client or self.vss, 'create_snapshot_set', paths, context, description,
                   flags)

    def assertReadOnlySnapshot(self, snapshot, volume):
        path = snapshot.get_snapshot_path()
        self.assertEqual(os.path.dirname(path), os.path.join(volume, '.vss-snapshots'))
        self.assertTrue(btrfsutil.is_subvolume(path))
        self.assertTrue(btrfsutil.get_subvolume_read_only(path))

    def test_writers_frozen_around_a_set_in_the_order_of_the_paths(self):
        a = self.subvolume('a', {'rows': b'a rows'})
        b = self.subvolume('b', {'rows': b'b rows'})
        elsewhere = self.subvolume('elsewhere')
        os.mkdir(os.path.join(a, 'db'))
        scoped = self.vss_writer('scoped', paths=[os.path.join(a, 'db')])
        everywhere = self.vss_writer('everywhere')
        outsider = self.vss_writer('outsider', paths=[elsewhere])
        affected = {}
        for writer in (scoped, everywhere):
            writer.connect('freeze', lambda w, request: affected.setdefault(
                w.props.name, list(request.get_affected_paths())) is not None)

        snapshots = self.create([b, a], description='nightly')
        self.assertEqual([s.get_source_path() for s in snapshots], [b, a])
        [set_id] = {s.get_snapshot_set_id() for s in snapshots}
        self.assertTrue(GLib.uuid_string_is_valid(set_id))
        for snapshot, volume in zip(snapshots, [b, a]):
            self.assertReadOnlySnapshot(snapshot, volume)
            with open(os.path.join(snapshot.get_snapshot_path(), 'rows'), 'rb') as f:
                self.assertEqual(f.read(), os.path.basename(volume)[-1].encode() + b' rows')
            self.assertEqual(snapshot.get_description(), 'nightly')
            self.assertEqual(snapshot.props.description, 'nightly')
            self.assertEqual(snapshot.get_context(), Vss.SnapshotContext.PERSISTENT)
        # the writers whose data lies in the set were frozen around it, the other got nothing
        for writer in (scoped, everywhere):
            iterate_until(lambda w=writer: w.count('backup-shutdown') == 1)
            self.assertEqual(writer.handled, ['identify', 'prepare-for-backup',
                                              'prepare-for-snapshot', 'freeze', 'thaw',
                                              'post-snapshot', 'backup-complete',
                                              'backup-shutdown'])
        self.assertEqual(outsider.handled, [])
        self.assertEqual(affected, {'scoped': [os.path.join(a, 'db')], 'everywhere': []})
        # listed, with the description, until deleted
        listed = self.vss.list_snapshots_sync(None)
        self.assertEqual(sorted(s.get_object_path() for s in listed),
                         sorted(s.get_object_path() for s in snapshots))
        self.assertEqual({s.get_description() for s in listed}, {'nightly'})
        self.vss.delete_snapshot_set_sync(set_id, None)
        self.assertEqual(self.snapshots_on_disk(a) + self.snapshots_on_disk(b), [])

    def test_no_writers_flag_sends_nothing(self):
        volume = self.subvolume('data', {'rows': b'rows'})
        writer = self.vss_writer('left alone')
        # no writer answers: the blocking call is fine
        [snapshot] = self.vss.create_snapshot_set_sync(
            [volume], Vss.SnapshotContext.PERSISTENT, None,
            Vss.CreateSnapshotSetFlags.NO_WRITERS, None)
        self.assertReadOnlySnapshot(snapshot, volume)
        self.assertEqual(snapshot.get_description(), '')
        spin(0.3)
        self.assertEqual(writer.handled, [])

    def test_bad_input_raises_and_leaves_nothing(self):
        good = self.subvolume('good')
        plain = os.path.join(good, 'plain')
        os.mkdir(plain)
        writer = self.vss_writer('w')
        missing = os.path.join(good, 'missing')
        # (paths, description, the error, what its message names)
        cases = [
            ([good, 'relative'], None, Vss.Error.INVALID_ARGUMENT, 'relative'),
            ([good, good + '/'], None, Vss.Error.INVALID_ARGUMENT, good + '/'),
            ([good, plain], None, Vss.Error.VOLUME_NOT_SUPPORTED, plain),
            ([good, missing], None, Vss.Error.OBJECT_NOT_FOUND, missing),
            ([], None, Vss.Error.INVALID_ARGUMENT, 'paths'),
            ([good, good], None, Vss.Error.INVALID_ARGUMENT, good),
            ([good], 'x' * 257, Vss.Error.INVALID_ARGUMENT, 'description'),
            ([good], 'two\nlines', Vss.Error.INVALID_ARGUMENT, 'description'),
        ]
        for paths, description, code, named in cases:
            with self.subTest(paths=paths, description=description):
                with self.assertRaises(GLib.Error) as caught:
                    self.create(paths, description=description)
                self.assertTrue(caught.exception.matches(Vss.error_quark(), code),
                                caught.exception)
                self.assertIn(named, caught.exception.message)
        self.assertEqual(self.snapshots_on_disk(good), [])
        self.assertEqual(self.records(), [])
        self.assertEqual(self.vss.list_snapshots_sync(None), [])
        self.assertEqual(writer.handled, [])

    def test_veto_raises_writer_failure_and_leaves_nothing(self):
        volume = self.subvolume('data')
        vetoing = self.vss_writer('vetoing', veto=True)
        with self.assertRaises(GLib.Error) as caught:
            self.create([volume])
        self.assertTrue(caught.exception.matches(Vss.error_quark(), Vss.Error.WRITER_FAILURE))
        self.assertIn('cannot quiesce the database', caught.exception.message)
        iterate_until(lambda: vetoing.count('backup-shutdown') == 1)
        self.assertEqual(vetoing.count('abort'), 1)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.vss.list_snapshots_sync(None), [])

    def test_backup_context_goes_with_the_connection(self):
        volume = self.subvolume('data')
        connection = self.client().connection
        client = Vss.Client.new_for_connection(connection)
        [snapshot] = self.create([volume], context=Vss.SnapshotContext.BACKUP, client=client)
        self.assertEqual(snapshot.get_context(), Vss.SnapshotContext.BACKUP)
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        connection.close_sync(None)
        iterate_until(lambda: self.snapshots_on_disk(volume) == [],
                      what='the set to go with its connection')


# what a snapshot of the subvolume holds: its files, and the empty stub that
# btrfs leaves where the nested subvolume .vss-snapshots is
LISTING = ['.vss-snapshots', 'dir', 'notes', 'rows']


class SnapshotOpenTest(LibraryTestCase):
    """vss_snapshot_open_*: the descriptor of a snapshot's root (DESIGN.md §6a)."""

    def setUp(self):
        super().setUp()
        self.volume = self.subvolume('data', {'rows': b'rows', 'notes': b'notes'})
        os.mkdir(os.path.join(self.volume, 'dir'))
        [self.snapshot] = self.vss.create_snapshot_set_sync(
            [self.volume], Vss.SnapshotContext.PERSISTENT, None,
            Vss.CreateSnapshotSetFlags.NO_WRITERS, None)

    def test_open_gives_a_descriptor_of_the_snapshot_root(self):
        fd = self.snapshot.open_sync(None)
        try:
            self.assertTrue(stat.S_ISDIR(os.fstat(fd).st_mode))
            self.assertEqual(os.fstat(fd).st_ino, 256)  # a subvolume root
            self.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
            self.assertEqual(sorted(os.listdir(fd)), LISTING)
            with open(os.open('rows', os.O_RDONLY, dir_fd=fd), 'rb') as f:
                self.assertEqual(f.read(), b'rows')
            # read-only, as the snapshot is
            with self.assertRaises(OSError):
                os.open('new', os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        finally:
            os.close(fd)
        # the asynchronous form
        fd = run(self.snapshot, 'open')
        try:
            self.assertEqual(sorted(os.listdir(fd)), LISTING)
        finally:
            os.close(fd)

    def test_gfile_for_the_descriptor_enumerates_the_snapshot(self):
        fd = self.snapshot.open_sync(None)
        try:
            root = Vss.Snapshot.file_new_for_fd(fd)
            self.assertEqual(root.get_path(), f'/proc/self/fd/{fd}')
            names = sorted(info.get_name() for info in root.enumerate_children(
                'standard::name', Gio.FileQueryInfoFlags.NONE, None))
            self.assertEqual(names, LISTING)
            ok, content, _etag = root.get_child('notes').load_contents(None)
            self.assertTrue(ok)
            self.assertEqual(bytes(content), b'notes')
        finally:
            os.close(fd)

    def test_only_the_owner_opens(self):
        # a set made by root; the mock polkit allows nobody anything
        client = Vss.Client.new_for_connection(self.client(uid=NOBODY_UID).connection)
        [theirs] = client.list_snapshots_sync(None)
        self.assertEqual(error_code(theirs.open_sync, None), Vss.Error.NOT_AUTHORIZED)
        # a user's own set: the descriptor works where the path does not
        self.polkitd_mock.SetAllowed(dbus.Array(['org.freedesktop.vss1.backup'], signature='s'))
        [own] = client.create_snapshot_set_sync(
            [self.volume], Vss.SnapshotContext.PERSISTENT, 'mine',
            Vss.CreateSnapshotSetFlags.NO_WRITERS, None)
        reader = subprocess.run(
            [sys.executable, '-c', OPEN_AS_USER, os.path.basename(own.get_snapshot_path())],
            env=dict(os.environ, PYTHONPATH=os.environ.get('PYTHONPATH', '')),
            user=NOBODY_UID, capture_output=True, text=True, timeout=60)
        self.assertEqual(reader.returncode, 0, reader.stderr)
        self.assertEqual(reader.stdout.split(), ['denied', *LISTING])


# run as the user nobody: reads the snapshot named in argv[1] through Open
OPEN_AS_USER = r'''
import os, sys
import gi
gi.require_version('Vss', '1.0')
from gi.repository import Vss
client = Vss.Client.new_sync(None)
[snapshot] = [s for s in client.list_snapshots_sync(None) if s.get_id() == sys.argv[1]]
try:
    os.listdir(snapshot.get_snapshot_path())
except PermissionError:
    print('denied')
fd = snapshot.open_sync(None)
print(*sorted(os.listdir(fd)))
os.close(fd)
'''


class AddBackupFileTest(LibraryTestCase):
    """vss_writer_request_add_backup_file*: files a writer adds in PostSnapshot (§4c)."""

    def setUp(self):
        super().setUp()
        self.volume = self.subvolume('data')
        self.data = os.path.join(self.volume, 'db')
        os.mkdir(self.data)
        # a file on another filesystem (copied) and one on the same (reflinked)
        self.outside = tempfile.mkdtemp(prefix='outside-', dir=self.tmpdir)
        self.addCleanup(shutil.rmtree, self.outside, ignore_errors=True)

    def source(self, name, content, mode=0o640, uid=NOBODY_UID, directory=None):
        path = os.path.join(directory or self.outside, name)
        with open(path, 'wb') as f:
            f.write(content)
        os.chmod(path, mode)
        os.chown(path, uid, uid)
        return path

    def snapshot_of_set(self):
        [snapshot] = self.vss.list_snapshots_sync(None)
        return snapshot.get_snapshot_path()

    def assertAdded(self, name, content, mode=0o640, uid=NOBODY_UID, subdir='db'):
        path = os.path.join(self.snapshot_of_set(), subdir, name)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), content)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), mode)
        self.assertEqual(st.st_uid, uid)

    def backup(self, writer_setup):
        writer = self.vss_writer('db', paths=[self.data])
        writer_setup(writer)
        snapshots = run(self.vss, 'create_snapshot_set', [self.volume],
                        Vss.SnapshotContext.PERSISTENT, None, Vss.CreateSnapshotSetFlags.NONE)
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshots[0].get_snapshot_path()))
        return writer

    def test_files_appear_in_the_read_only_snapshot(self):
        copied = self.source('label', b'START WAL LOCATION: 0/2000028\n')
        reflinked = self.source('wal', b'w' * 70000, mode=0o600, uid=0, directory=self.volume)
        seen = {}

        def post_snapshot(writer, request):
            seen['affected'] = list(request.get_affected_paths())
            fd = os.open(copied, os.O_RDONLY)
            try:
                request.add_backup_file(os.path.join(self.data, 'backup_label'), fd)
            finally:
                os.close(fd)
            # the GFile convenience; parents are made inside the snapshot
            request.add_backup_file_from_gfile(os.path.join(self.data, 'pg_wal', 'segment'),
                                               Gio.File.new_for_path(reflinked), None)
            return True

        self.backup(lambda w: w.connect('post-snapshot', post_snapshot))
        self.assertEqual(seen['affected'], [self.data])
        self.assertAdded('backup_label', b'START WAL LOCATION: 0/2000028\n')
        self.assertAdded('segment', b'w' * 70000, mode=0o600, uid=0, subdir='db/pg_wal')
        # the live filesystem has neither
        self.assertFalse(os.path.exists(os.path.join(self.data, 'backup_label')))
        self.assertFalse(os.path.exists(os.path.join(self.data, 'pg_wal')))

    def test_from_a_worker_thread_and_asynchronously(self):
        threaded = self.source('threaded', b'from a worker thread')
        later = self.source('later', b'without blocking', mode=0o644)
        threads = []
        results = {}

        def worker(request):
            fd = os.open(threaded, os.O_RDONLY)
            try:
                request.add_backup_file(os.path.join(self.data, 'threaded'), fd)
                results['thread'] = threading.current_thread().name
            except GLib.Error as e:
                results['thread'] = e
            finally:
                os.close(fd)
            # answered in the writer's thread, once the worker is done
            GLib.idle_add(lambda: (request.complete(), False)[1])

        def async_done(request, res):
            try:
                results['async'] = request.add_backup_file_finish(res)
            except GLib.Error as e:
                results['async'] = e
            thread = threading.Thread(target=worker, args=(request,), name='copier')
            threads.append(thread)
            thread.start()

        def post_snapshot(writer, request):
            request.defer()
            fd = os.open(later, os.O_RDONLY)
            request.add_backup_file_async(os.path.join(self.data, 'later'), fd, None,
                                          async_done)
            os.close(fd)  # duplicated already
            return True

        self.backup(lambda w: w.connect('post-snapshot', post_snapshot))
        for thread in threads:
            thread.join()
        self.assertEqual(results, {'async': True, 'thread': 'copier'})
        self.assertAdded('threaded', b'from a worker thread')
        self.assertAdded('later', b'without blocking', mode=0o644)

    def test_refused_files_raise_and_change_nothing(self):
        content = self.source('content', b'data')
        errors = {}

        def try_add(key, path, fd_or_file):
            try:
                if isinstance(fd_or_file, Gio.File):
                    request_box[0].add_backup_file_from_gfile(path, fd_or_file, None)
                else:
                    request_box[0].add_backup_file(path, fd_or_file)
                errors[key] = None
            except GLib.Error as e:
                self.assertTrue(e.matches(Vss.error_quark(), e.code), e)
                errors[key] = Vss.Error(e.code)

        request_box = []

        def freeze(writer, request):
            # not a PostSnapshot: the service says so
            request_box[:] = [request]
            fd = os.open(content, os.O_RDONLY)
            try_add('in freeze', os.path.join(self.data, 'x'), fd)
            os.close(fd)
            return True

        def post_snapshot(writer, request):
            request_box[:] = [request]
            fd = os.open(content, os.O_RDONLY)
            directory = os.open(self.outside, os.O_RDONLY | os.O_DIRECTORY)
            try:
                try_add('outside the paths', os.path.join(self.volume, 'elsewhere'), fd)
                try_add('directory', os.path.join(self.data, 'dir'), directory)
                try_add('relative', 'db/x', fd)
                try_add('closed fd', os.path.join(self.data, 'x'), 999)
                try_add('missing file', os.path.join(self.data, 'x'),
                        Gio.File.new_for_path(os.path.join(self.outside, 'missing')))
                try_add('not local', os.path.join(self.data, 'x'),
                        Gio.File.new_for_uri('http://example.com/x'))
            finally:
                os.close(fd)
                os.close(directory)
            return True

        self.backup(lambda w: (w.connect('freeze', freeze),
                               w.connect('post-snapshot', post_snapshot)))
        self.assertEqual(errors, {
            'in freeze': Vss.Error.BAD_STATE,
            'outside the paths': Vss.Error.NOT_AUTHORIZED,
            'directory': Vss.Error.INVALID_ARGUMENT,
            'relative': Vss.Error.INVALID_ARGUMENT,
            'closed fd': Vss.Error.INVALID_ARGUMENT,
            'missing file': Vss.Error.OBJECT_NOT_FOUND,
            'not local': Vss.Error.INVALID_ARGUMENT,
        })
        snapshot = self.snapshot_of_set()
        self.assertEqual(sorted(os.listdir(snapshot)), ['.vss-snapshots', 'db'])
        self.assertEqual(os.listdir(os.path.join(snapshot, 'db')), [])
        # too late: the request was answered, the snapshot is read-only
        fd = os.open(content, os.O_RDONLY)
        try:
            self.assertEqual(error_code(request_box[0].add_backup_file,
                                        os.path.join(self.data, 'late'), fd),
                             Vss.Error.BAD_STATE)
        finally:
            os.close(fd)

    def test_a_local_request_refuses_with_bad_state(self):
        content = self.source('content', b'data')
        codes = []

        def thaw(writer, request):
            # the thaw the library runs on Abort is the writer's own
            if request.is_local():
                fd = os.open(content, os.O_RDONLY)
                try:
                    codes.append(error_code(request.add_backup_file,
                                            os.path.join(self.data, 'x'), fd))
                finally:
                    os.close(fd)
            return True

        writer = self.vss_writer('db', paths=[self.data])
        writer.connect('thaw', thaw)
        self.vss_writer('vetoing', veto=True)
        backup = self.prepared([self.volume])
        with self.assertRaises(GLib.Error):
            run(backup, 'do_snapshot_set')
        iterate_until(lambda: codes, what='the local thaw')
        self.assertEqual(codes, [Vss.Error.BAD_STATE])
        # a request made by hand has no service to go to
        request = Vss.WriterRequest()
        self.assertEqual(list(request.get_affected_paths()), [])
        self.assertEqual(error_code(request.add_backup_file, '/x', 0), Vss.Error.BAD_STATE)

    def test_gjs_writer_adds_files(self):
        if not os.access(GJS, os.X_OK):
            self.skipTest(f'{GJS} is missing')
        source = self.source('label', b'from gjs', mode=0o600)
        script = os.path.join(self.outside, 'writer.js')
        with open(script, 'w') as f:
            f.write(GJS_WRITER)
        env = dict(os.environ, DATA=self.data, SOURCE=source)
        proc = subprocess.Popen([GJS, '-m', script], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        iterate_until(lambda: [w for w in self.vss.list_writers_sync(None)
                               if w.get_name() == 'gjs db'] or proc.poll() is not None,
                      what='the GJS writer to register')
        self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else '')
        [snapshot] = run(self.vss, 'create_snapshot_set', [self.volume],
                         Vss.SnapshotContext.PERSISTENT, None, Vss.CreateSnapshotSetFlags.NONE)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.split('\n')[:2], [f'affected: {self.data}', 'added 2'])
        self.assertNotIn('CRITICAL', err)
        self.assertAdded('gfile', b'from gjs', mode=0o600)
        self.assertAdded('fd', b'from gjs', mode=0o600)


# a GJS writer that adds $SOURCE twice in PostSnapshot: through the GFile
# convenience, and asynchronously with a descriptor; it exits after the backup
GJS_WRITER = r'''
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Vss from 'gi://Vss?version=1.0';
import System from 'system';

Gio._promisify(Vss.WriterRequest.prototype, 'add_backup_file_async',
    'add_backup_file_finish');
const data = GLib.getenv('DATA');
const source = Gio.File.new_for_path(GLib.getenv('SOURCE'));
const loop = new GLib.MainLoop(null, false);
let status = 1;
const writer = new Vss.Writer({name: 'gjs db', paths: [data]});
writer.connect('backup-shutdown', () => {
    loop.quit();
    return true;
});
writer.connect('post-snapshot', (_writer, request) => {
    print(`affected: ${request.get_affected_paths().join(' ')}`);
    request.defer();
    (async () => {
        request.add_backup_file_from_gfile(`${data}/gfile`, source, null);
        const stream = source.read(null);
        await request.add_backup_file_async(`${data}/fd`, stream.get_fd(), null);
        stream.close(null);
        print('added 2');
        status = 0;
    })().catch(e => printerr(`JS ERROR: ${e}`)).finally(() => request.complete());
    return true;
});
writer.register_sync(null);
loop.run();
System.exit(status);
'''


class SelfProtectionTest(LibraryTestCase):
    """The writer lets its application go when nobody else will."""

    def test_writer_thaws_itself_when_the_service_dies_while_frozen(self):
        volume = self.subvolume('data')
        killed_at = []

        def freeze(w, request):
            # the service dies while this writer is frozen
            self.vssd.kill()
            killed_at.append(time.monotonic())
            return True

        writer = self.vss_writer('frozen when vssd dies')
        writer.connect('freeze', freeze)
        backup = self.prepared([volume])
        done = {}
        backup.do_snapshot_set_async(None, lambda b, res: done.setdefault('res', res))
        iterate_until(lambda: writer.self_aborts, timeout=10, what='the writer to thaw itself')
        elapsed = time.monotonic() - killed_at[0]
        self.assertLess(elapsed, 1.0)
        self.assertFalse(writer.is_frozen())
        self.assertIn('left the bus', writer.self_aborts[0])
        self.assertEqual(writer.count('abort'), 1)
        self.assertIn('thaw (local)', writer.handled)
        self.assertFalse(writer.is_registered())
        # the requester's call in flight tells that the service is gone
        iterate_until(lambda: 'res' in done, what='DoSnapshotSet to fail')
        with self.assertRaises(GLib.Error) as caught:
            backup.do_snapshot_set_finish(done['res'])
        self.assertTrue(caught.exception.matches(Vss.error_quark(),
                                                 Vss.Error.SERVICE_UNAVAILABLE),
                        caught.exception)
        # and when the service is back, the writer registers again
        self.vssd.start()
        iterate_until(lambda: writer.is_registered(), timeout=10, what='the writer to come back')

    def test_freeze_deadline_passes_then_the_service_abort_runs_nothing(self):
        volume = self.subvolume('data')

        def freeze(w, request):
            # the service hangs right after sending Freeze
            os.kill(self.vssd.process.pid, signal.SIGSTOP)
            return True

        writer = self.vss_writer('deadline', freeze_timeout_ms=500)
        writer.connect('freeze', freeze)
        backup = self.prepared([volume])
        done = {}
        backup.do_snapshot_set_async(None, lambda b, res: done.setdefault('res', res))
        try:
            iterate_until(lambda: writer.self_aborts, timeout=10,
                          what='the freeze deadline to pass')
        finally:
            os.kill(self.vssd.process.pid, signal.SIGCONT)
        self.assertIn('deadline', writer.self_aborts[0])
        self.assertFalse(writer.is_frozen())
        self.assertEqual(writer.count('abort'), 1)
        self.assertIn('abort (local)', writer.handled)
        # the service wakes up, times the writer out and sends Abort: nothing runs again
        iterate_until(lambda: 'res' in done, what='DoSnapshotSet to end')
        with self.assertRaises(GLib.Error) as caught:
            backup.do_snapshot_set_finish(done['res'])
        self.assertTrue(caught.exception.matches(Vss.error_quark(), Vss.Error.WRITER_FAILURE))
        spin(0.5)
        self.assertEqual(writer.count('abort'), 1, writer.handled)
        self.assertEqual(self.snapshots_on_disk(volume), [])


class CApiTest(VssTestCase):
    def client_binary(self):
        return os.path.join(os.environ['VSS_BUILD_ROOT'], 'tests', 'test-client')

    def run_client(self, wrapper=()):
        volume = self.subvolume('c-api')
        env = dict(os.environ, G_SLICE='always-malloc', G_DEBUG='gc-friendly')
        proc = subprocess.Popen([*wrapper, self.client_binary(), volume], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        iterate_until(lambda: proc.poll() is not None, timeout=300, what='test-client')
        output = proc.stdout.read()
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn('test-client: all passed', output)
        return output

    def test_c_api(self):
        self.run_client()

    def test_c_api_under_valgrind_has_no_definite_leaks(self):
        supp = os.path.join(os.environ['VSS_SOURCE_ROOT'], 'tests', 'valgrind.supp')
        glib_supp = '/usr/share/glib-2.0/valgrind/glib.supp'
        output = self.run_client(['valgrind', '--leak-check=full', '--error-exitcode=3',
                                  '--errors-for-leak-kinds=definite',
                                  f'--suppressions={glib_supp}', f'--suppressions={supp}'])
        match = re.search(r'definitely lost: ([\d,]+) bytes', output)
        if match is not None:
            self.assertEqual(match.group(1), '0', output)
        self.assertRegex(output, r'ERROR SUMMARY: 0 errors')


if __name__ == '__main__':
    unittest.main()
