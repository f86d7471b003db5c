#!/usr/bin/python3
"""libvss-gobject through GObject introspection (gi.repository.Vss): Python
writers and a Python requester on a real vssd, and the C API under valgrind.

PyGObject 3.42 has no awaitables: requester calls that writers in this
process must answer run as _async calls while the main loop turns (the
run() helper); a blocking _sync call would keep the writers from answering.
"""

import os
import re
import signal
import subprocess
import time
import unittest

import gi

gi.require_version('Vss', '1.0')
from gi.repository import GLib, Vss  # noqa: E402

from vsstest import VssTestCase, iterate_until, spin  # noqa: E402


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
