"""ApplicationWriter: a Vss.Writer whose events run blocking work off the main loop.

A writer program subclasses ApplicationWriter and implements the work of the
events it cares about as plain methods (``prepare_for_snapshot(event)``,
``freeze(event)``, ``release(reason)``, ...). Those run one at a time, in the
order the events came, on one worker thread, so that a database call or a
script never stalls the GLib main loop: the main loop keeps answering the
bus, notices vssd leaving, and runs the freeze deadline of libvss-gobject
while the worker waits. The event is deferred (``request.defer()``) and
answered back on the main loop (``GLib.idle_add``) when the work is done;
raising WriterFailed, or any exception, fails it (in Freeze: a veto).

Letting go of the application is the one thing that must always happen
(docs/design.md §9): ``release(reason)`` runs on Abort, on BackupShutdown,
when vssd leaves the bus, when the writer's own timer for a backup runs out,
after a failed PrepareForSnapshot, and when the program is stopped. Work
that takes the application *into* backup mode (PrepareForSnapshot, Freeze)
and is still running when the backup ends is interrupted (``interrupt()``,
called on the main loop) so that the release behind it is not kept waiting.
"""

import logging
import queue
import signal
import threading
import time

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Vss', '1.0')
from gi.repository import Gio, GLib, Vss  # noqa: E402

log = logging.getLogger('vsswriter')

# how often a writer that lost its registration tries again (the library
# registers by itself when vssd comes back; this covers a registration that
# failed, for instance because polkit was not up yet)
REREGISTER_INTERVAL_S = 10

# events whose work takes the application into backup mode: when the backup
# ends while one of them still runs, it is interrupted (Thaw and release,
# which take the application out of it, always run to their end)
ENGAGING_EVENTS = ('prepare-for-snapshot', 'freeze')


class WriterFailed(Exception):
    """Fails the event with this message; in Freeze, a veto."""

    def __init__(self, message, failure=Vss.WriterFailure.NON_RETRYABLE):
        super().__init__(message)
        self.message = message
        self.failure = failure


class Event:
    """One event, as the worker sees it: plain values read on the main loop,
    and the request itself for AddBackupFile (callable from a thread)."""

    def __init__(self, writer, request):
        self.request = request
        self.name = request.get_event().value_nick
        self.serial = request.get_serial()
        self.backup = request.get_backup_path()
        self.snapshot_set_id = request.get_snapshot_set_id() or ''
        self.local = request.is_local()
        details = request.get_details()
        self.details = details.unpack() if details is not None else {}
        self.snapshots = dict(self.details.get('snapshots', {}))
        # None when vssd sends no affected-paths (a writer without paths, or
        # a vssd from before path scoping); read from the details where the
        # library has no vss_writer_request_get_affected_paths() yet
        if hasattr(request, 'get_affected_paths'):
            affected = request.get_affected_paths()
        else:
            affected = self.details.get('affected-paths')
        self.affected_paths = list(affected) if affected is not None else None
        timeout_ms = request.get_timeout_ms() if self.name == 'freeze' else 0
        self.timeout_ms = timeout_ms or writer.event_timeout_ms
        self.deadline = time.monotonic() + self.timeout_ms / 1000
        self._writer = writer

    def remaining(self, margin=1.0, minimum=0.1):
        """Seconds left to answer this event, less a margin for the answer
        itself; never less than minimum."""
        return max(minimum, self.deadline - time.monotonic() - margin)

    def add_backup_file(self, path, fd):
        """Places the content of the open regular file fd at path in the
        snapshot (docs/design.md §4c); only in PostSnapshot. Raises
        WriterFailed with vssd's message."""
        try:
            if hasattr(self.request, 'add_backup_file'):
                self.request.add_backup_file(path, fd)
            else:
                # a libvss-gobject from before AddBackupFile: the bus call itself
                self._writer.call_add_backup_file(self.serial, path, fd)
        except GLib.Error as e:
            raise WriterFailed(f'cannot add {path} to the snapshot: {e.message}')

    def __str__(self):
        return f'{self.name} of {self.backup}' if self.backup else self.name


class Worker:
    """One thread that runs jobs in order; each job's result is handed to its
    callback on the main loop."""

    def __init__(self, name):
        self._jobs = queue.Queue()
        self.running = None  # the name of the job that runs now, read by the main loop
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, name, func, done=None):
        self._jobs.put((name, func, done))

    def _run(self):
        while True:
            name, func, done = self._jobs.get()
            if func is None:
                return
            self.running = name
            try:
                result, error = func(), None
            except Exception as e:  # handed to the main loop, which logs and answers
                result, error = None, e
            self.running = None
            if done is not None:
                # arguments, not a closure: the next job rebinds result and error
                GLib.idle_add(self._deliver, done, result, error)

    @staticmethod
    def _deliver(done, result, error):
        done(result, error)
        return GLib.SOURCE_REMOVE

    def stop(self, timeout):
        self._jobs.put((None, None, None))
        self._thread.join(timeout)


def _failure_message(error):
    if isinstance(error, WriterFailed):
        return error.failure, error.message
    return Vss.WriterFailure.NON_RETRYABLE, f'{type(error).__name__}: {error}'


class ApplicationWriter(Vss.Writer):
    """Base class of the writers. Subclasses override the work methods below;
    each runs on the worker thread and may block, bounded by
    event.remaining()."""

    def __init__(self, name, paths=None, freeze_timeout_ms=60000, event_timeout_ms=30000):
        super().__init__(name=name, paths=sorted(set(paths)) if paths else None,
                         freeze_timeout_ms=freeze_timeout_ms, event_timeout_ms=event_timeout_ms)
        self.writer_name = name
        self.freeze_timeout_ms = freeze_timeout_ms
        self.event_timeout_ms = event_timeout_ms
        self.worker = Worker(f'{name} worker')
        # the backup whose PrepareForSnapshot ran and that is not released yet
        self.holding = None
        self._hold_timer = 0
        self._reregister_timer = 0
        self.stopping = False
        self.connect('notify::registered', self._on_registered_changed)
        self.connect('self-abort', self._on_self_abort)

    # ---- the work of each event: override what the application needs ----------

    def identify(self, event):
        """Returns the metadata to publish (a dict of GLib.Variant), or None.
        Fail here what this writer can never make consistent."""
        return None

    def prepare_for_backup(self, event):
        """A backup of this writer's data starts; check that it can be made
        consistent (event.affected_paths)."""

    def prepare_for_snapshot(self, event):
        """Take the application into backup mode."""

    def freeze(self, event):
        """Stop the application's writes, within event.remaining()."""

    def thaw(self, event):
        """Let the application write again (also run on Abort while frozen)."""

    def post_snapshot(self, event):
        """The snapshots exist (event.snapshots): finish, add files."""

    def backup_complete(self, event):
        """The requester has copied the data."""

    def release(self, reason):
        """Let go of everything a backup holds in the application. Runs often
        (every end of a backup, vssd leaving...): cheap when nothing is held."""

    def interrupt(self):
        """Called on the main loop: make a blocked PrepareForSnapshot or
        Freeze on the worker return now (close the session, kill the script)."""

    def close(self):
        """The program ends: close sessions (on the worker, after release)."""

    # ---- running the work off the main loop ----------------------------------------

    def _answer(self, event, error):
        if error is None:
            log.debug('%s: done', event)
            event.request.complete()
            return
        failure, message = _failure_message(error)
        if not isinstance(error, WriterFailed):
            log.error('%s: unexpected error', event, exc_info=error)
        log.warning('%s failed (%s): %s', event, failure.value_nick, message)
        event.request.fail(failure, message)

    def _run_event(self, request, work, release_on_failure=False, before_answer=None):
        """Defers the request, runs work(event) on the worker, answers on the
        main loop (after before_answer(result), if given)."""
        event = Event(self, request)
        log.debug('%s: received%s', event, ' (local)' if event.local else '')
        request.defer()

        def job():
            try:
                return work(event)
            except Exception as e:
                if release_on_failure:
                    self._release_now(f'{event.name} failed: {e}')
                raise

        def done(result, error):
            if error is None and before_answer is not None:
                before_answer(result)
            self._answer(event, error)

        self.worker.submit(event.name, job, done)
        return True

    def _release_now(self, reason):
        """On the worker: release, logging instead of raising."""
        try:
            self.release(reason)
        except Exception as e:
            log.error('cannot let go of the application (%s): %s', reason, e, exc_info=e)
            raise
        finally:
            GLib.idle_add(self._disarm_hold)

    def let_go(self, reason, done=None):
        """Main loop: release the application as soon as possible."""
        if self.holding is not None:
            log.info('letting go of the application: %s', reason)
        if self.worker.running in ENGAGING_EVENTS:
            log.warning('interrupting %s still running: %s', self.worker.running, reason)
            self.interrupt()
        self.worker.submit('release', lambda: self._release_now(reason),
                           (lambda result, error: done(error)) if done else None)

    # the hold timer: a backup that took the application into backup mode and
    # then neither ended nor went away within the time its events may take
    def _arm_hold(self, backup):
        self._disarm_hold()
        self.holding = backup
        seconds = (2 * self.event_timeout_ms + self.freeze_timeout_ms) / 1000 + 5
        self._hold_timer = GLib.timeout_add_seconds(int(seconds) + 1, self._on_hold_timeout)

    def _disarm_hold(self):
        self.holding = None
        if self._hold_timer:
            GLib.source_remove(self._hold_timer)
            self._hold_timer = 0
        return False

    def _on_hold_timeout(self):
        self._hold_timer = 0
        log.warning('backup %s took longer than its events may: letting go on my own',
                    self.holding)
        self.let_go('the writer\'s own timer ran out')
        return False

    # ---- the events, as libvss-gobject hands them over (main loop) ------------------

    def do_identify(self, request):
        def published(writer, result):
            try:
                writer.set_metadata_finish(result)
            except GLib.Error as e:
                # vssd checks the keys it knows (docs/design.md §3): a refusal
                # is a bug of this writer, worth an operator's notice
                log.error('vssd refused the metadata: %s', e.message)

        def publish(metadata):
            if metadata:
                # goes out before the acknowledgement on the same connection,
                # so vssd has it when GatherWriterMetadata returns
                self.set_metadata_async(GLib.Variant('a{sv}', metadata), None, published)
        return self._run_event(request, self.identify, before_answer=publish)

    def do_prepare_for_backup(self, request):
        return self._run_event(request, self.prepare_for_backup)

    def do_prepare_for_snapshot(self, request):
        self._arm_hold(request.get_backup_path())
        return self._run_event(request, self.prepare_for_snapshot, release_on_failure=True)

    def do_freeze(self, request):
        return self._run_event(request, self.freeze)

    def do_thaw(self, request):
        return self._run_event(request, self.thaw)

    def do_post_snapshot(self, request):
        return self._run_event(request, self.post_snapshot)

    def do_abort(self, request):
        # the default handler first: it runs Thaw (a local request) when frozen
        Vss.Writer.do_abort(self, request)
        reason = 'Abort' if not request.is_local() else \
            request.get_details().unpack().get('reason', 'aborted on its own')
        return self._run_event(request, lambda event: self._release_now(reason))

    def do_backup_complete(self, request):
        return self._run_event(request, self.backup_complete)

    def do_backup_shutdown(self, request):
        return self._run_event(request, lambda event: self._release_now('BackupShutdown'))

    # ---- vssd coming and going --------------------------------------------------

    def _on_self_abort(self, writer, reason):
        log.warning('thawed and aborted on my own: %s', reason)

    def _on_registered_changed(self, writer, pspec):
        if self.is_registered():
            log.info('registered with vssd as %s', self.get_object_path())
            if self._reregister_timer:
                GLib.source_remove(self._reregister_timer)
                self._reregister_timer = 0
            return
        if self.stopping:
            return
        log.warning('no longer registered (vssd left the bus?); registering again')
        # libvss-gobject thawed and aborted us if we were frozen; a backup
        # that only took us into backup mode (PrepareForSnapshot) is ours to end
        if self.holding is not None:
            self.let_go('vssd left the bus')
        if not self._reregister_timer:
            self._reregister_timer = GLib.timeout_add_seconds(REREGISTER_INTERVAL_S,
                                                              self._try_register)

    def _try_register(self):
        if self.is_registered():
            self._reregister_timer = 0
            return False
        self._register_again()
        return True

    def _register_again(self):
        def registered(writer, result):
            try:
                writer.register_finish(result)
            except GLib.Error as e:
                # the timer tries again; vssd's own message says why
                log.warning('cannot register: %s', e.message)
        self.register_async(None, registered)

    def update_paths(self, paths):
        """Main loop: the application's data moved (a new tablespace...):
        register again with the new paths, so that path scoping follows."""
        paths = sorted(set(paths))
        if paths == sorted(self.props.paths or []):
            return
        log.warning('the data now lives in %s: registering again', ', '.join(paths))
        self.props.paths = paths

        def unregistered(writer, result):
            try:
                writer.unregister_finish(result)
            except GLib.Error as e:
                log.debug('unregistering: %s', e.message)
            writer._register_again()
        self.unregister_async(None, unregistered)

    def call_add_backup_file(self, serial, path, fd):
        """Writer.AddBackupFile over the bus, for a libvss-gobject that lacks
        vss_writer_request_add_backup_file(); callable from a thread."""
        connection = self.get_property('connection')
        fds = Gio.UnixFDList.new()
        index = fds.append(fd)
        connection.call_with_unix_fd_list_sync(
            'org.freedesktop.Vss1', self.get_object_path(), 'org.freedesktop.Vss1.Writer',
            'AddBackupFile', GLib.Variant('(tsh)', (serial, path, index)), None,
            Gio.DBusCallFlags.NONE, self.event_timeout_ms, fds, None)


def run(writer, program_log):
    """Registers the writer and runs the main loop until SIGTERM or SIGINT;
    then lets go of the application, unregisters and returns the exit status."""
    loop = GLib.MainLoop()
    status = 0
    try:
        writer.register_sync(None)
    except GLib.Error as e:
        if e.matches(Vss.error_quark(), Vss.Error.SERVICE_UNAVAILABLE):
            # libvss-gobject registers by itself when vssd appears
            program_log.warning('vssd is not running; registering when it starts')
        else:
            program_log.error('cannot register with vssd: %s', e.message)
            return 1

    def stop(signame):
        program_log.info('%s: stopping', signame)
        # never leave the application blocked behind us
        writer.let_go(f'the writer is stopping ({signame})', lambda error: loop.quit())
        # ... but do not wait on it forever
        GLib.timeout_add_seconds(writer.event_timeout_ms // 1000 + 5, loop.quit)
        return GLib.SOURCE_REMOVE

    for signum, signame in ((signal.SIGTERM, 'SIGTERM'), (signal.SIGINT, 'SIGINT')):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, stop, signame)
    loop.run()

    writer.stopping = True
    try:
        if writer.is_registered():
            writer.unregister_sync(None)
    except GLib.Error as e:
        program_log.debug('unregistering: %s', e.message)
    writer.worker.submit('close', writer.close)
    writer.worker.stop(timeout=5)
    return status
