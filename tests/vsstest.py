"""The integration test harness of vss (docs/design.md §8).

Every test class gets a private dbus-daemon configured like a system bus
that includes the project's bus policy, a mock polkitd (python-dbusmock's
template) on it, and a btrfs filesystem made in a file and loop-mounted in a
temporary directory. Every test gets a fresh vssd from the build tree with
its own state directory. Everything is torn down afterwards, even when a test
fails.

Writers and requesters are in-process GDBus connections, each with its own
unique name, driven by one GLib main loop: a writer answers its events from
that loop while a requester's call is pending, so a test reads like a script
of what a backup application and its writers do.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

import btrfsutil  # noqa: E402
import dbusmock  # noqa: E402

VSS_NAME = 'org.freedesktop.Vss1'
VSS_PATH = '/org/freedesktop/Vss1'
MANAGER_IFACE = 'org.freedesktop.Vss1.Manager'
BACKUP_IFACE = 'org.freedesktop.Vss1.BackupComponents'
WRITER_IFACE = 'org.freedesktop.Vss1.Writer'
SNAPSHOT_IFACE = 'org.freedesktop.Vss1.Snapshot'
ERROR_PREFIX = 'org.freedesktop.Vss1.Error.'

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the ASan stage of scripts/test.sh preloads the ASan runtime into every test
# process and its children (scripts/test.sh, stage_asan): a program that
# loads the instrumented libvss-gobject needs them, one not ours (a
# database server, a backup tool) is run without them
SANITIZER_VARIABLES = ('LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'PYTHONMALLOC', 'G_SLICE')
CALL_TIMEOUT_S = 60
NOBODY_UID = 65534

WRITER_EVENTS = ('Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
                 'PostSnapshot', 'Abort', 'BackupComplete', 'BackupShutdown', 'PreRestore',
                 'PostRestore')


class VssError(Exception):
    """A D-Bus error reply, with the short name (``BadState``) in ``name``."""

    def __init__(self, dbus_name, message):
        super().__init__(f'{dbus_name}: {message}')
        self.dbus_name = dbus_name
        self.name = dbus_name[len(ERROR_PREFIX):] if dbus_name.startswith(ERROR_PREFIX) else dbus_name
        self.message = message


def vardict(options):
    """An a{sv} from plain values: int is u, str is s, a list of str is as."""
    result = {}
    for key, value in (options or {}).items():
        if isinstance(value, GLib.Variant):
            result[key] = value
        elif isinstance(value, bool):
            result[key] = GLib.Variant('b', value)
        elif isinstance(value, int):
            result[key] = GLib.Variant('u', value)
        elif isinstance(value, str):
            result[key] = GLib.Variant('s', value)
        elif isinstance(value, (list, tuple)):
            result[key] = GLib.Variant('as', list(value))
        else:
            raise TypeError(f'no D-Bus type for {key}={value!r}')
    return result


def iterate_until(predicate, timeout=CALL_TIMEOUT_S, what='condition'):
    """Runs the main loop until predicate() is true; fails after timeout seconds."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}')
        # a short timeout source keeps the loop from blocking forever
        source = GLib.timeout_source_new(50)
        source.set_callback(lambda *args: False)
        source.attach(context)
        context.iteration(True)
        source.destroy()


def spin(seconds):
    """Runs the main loop for a while, for things that must *not* happen."""
    deadline = time.monotonic() + seconds
    iterate_until(lambda: time.monotonic() >= deadline, timeout=seconds + 5)


class PendingCall:
    """A method call in flight; wait() returns its result or raises VssError."""

    def __init__(self, connection, path, interface, method, args, reply_type, on_done=None,
                 fds=None):
        self.done = False
        self.result = None
        self.fds = []  # descriptors that came with the reply
        self.error = None
        self.on_done = on_done
        if fds is None:
            connection.call(VSS_NAME, path, interface, method, args, reply_type,
                            Gio.DBusCallFlags.NONE, CALL_TIMEOUT_S * 1000, None, self._done_cb)
            return
        fd_list = Gio.UnixFDList.new()
        for fd in fds:
            fd_list.append(fd)
        connection.call_with_unix_fd_list(VSS_NAME, path, interface, method, args, reply_type,
                                          Gio.DBusCallFlags.NONE, CALL_TIMEOUT_S * 1000,
                                          fd_list, None, self._done_fds_cb)

    def _done_fds_cb(self, connection, res):
        self._done_cb(connection, res, with_fds=True)

    def _done_cb(self, connection, res, with_fds=False):
        try:
            if with_fds:
                self.result, fd_list = connection.call_with_unix_fd_list_finish(res)
                self.fds = fd_list.steal_fds() if fd_list is not None else []
            else:
                self.result = connection.call_finish(res)
        except GLib.Error as e:
            dbus_name = Gio.DBusError.get_remote_error(e) or 'org.gtk.GDBus.UnmappedGError'
            Gio.DBusError.strip_remote_error(e)
            self.error = VssError(dbus_name, e.message)
        self.done = True
        if self.on_done is not None:
            self.on_done(self)

    def wait(self, timeout=CALL_TIMEOUT_S):
        iterate_until(lambda: self.done, timeout, 'a D-Bus reply')
        if self.error is not None:
            raise self.error
        if self.result is None or self.result.n_children() == 0:
            return None
        if self.result.n_children() == 1:
            return self.result.get_child_value(0).unpack()
        return self.result.unpack()

    def error_name(self, timeout=CALL_TIMEOUT_S):
        """Waits; returns the short error name, or None if the call succeeded."""
        try:
            self.wait(timeout)
        except VssError as e:
            return e.name
        return None


class Client:
    """One connection to the test bus: a requester, an admin, or a writer's."""

    def __init__(self, address, uid=None):
        # the bus takes the credentials of the connecting process at connect
        # time, so another uid is one seteuid() around the connect
        if uid is not None:
            os.seteuid(uid)
        try:
            self.connection = Gio.DBusConnection.new_for_address_sync(
                address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                None, None)
        finally:
            if uid is not None:
                os.seteuid(0)
        self.connection.set_exit_on_close(False)
        self.unique_name = self.connection.get_unique_name()

    def call_async(self, path, interface, method, args=None, reply_type=None, on_done=None,
                   fds=None):
        return PendingCall(self.connection, path, interface, method, args, reply_type, on_done,
                           fds)

    def call(self, path, interface, method, args=None, reply_type=None):
        return self.call_async(path, interface, method, args, reply_type).wait()

    def get_property(self, path, interface, name):
        return self.call(path, 'org.freedesktop.DBus.Properties', 'Get',
                         GLib.Variant('(ss)', (interface, name)))

    def managed_objects(self):
        return self.call(VSS_PATH, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects')

    def create_backup(self, options=None):
        path = self.call(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                         GLib.Variant('(a{sv})', (vardict(options),)))
        return Backup(self, path)

    def delete_snapshot_set(self, set_id):
        return self.call(VSS_PATH, MANAGER_IFACE, 'DeleteSnapshotSet',
                         GLib.Variant('(s)', (set_id,)))

    def create_snapshot_set_async(self, paths, options=None):
        return self.call_async(VSS_PATH, MANAGER_IFACE, 'CreateSnapshotSet',
                               GLib.Variant('(asa{sv})', (list(paths), vardict(options))))

    def create_snapshot_set(self, paths, options=None):
        """CreateSnapshotSet: (set id, [snapshot object paths])."""
        return self.create_snapshot_set_async(paths, options).wait()

    def open_snapshot(self, snapshot_object, options=None):
        """Snapshot.Open: a descriptor of the snapshot's root (the caller closes it)."""
        pending = self.call_async(snapshot_object, SNAPSHOT_IFACE, 'Open',
                                  GLib.Variant('(a{sv})', (vardict(options),)), fds=[])
        pending.wait()
        return pending.fds[pending.result.unpack()[0]]

    def close(self):
        if not self.connection.is_closed():
            self.connection.close_sync(None)


class Backup:
    """A BackupComponents object, seen from the connection that drives it."""

    def __init__(self, client, path):
        self.client = client
        self.path = path

    def call_async(self, method, signature=None, *args):
        params = GLib.Variant(signature, args) if signature else None
        return self.client.call_async(self.path, BACKUP_IFACE, method, params)

    def call(self, method, signature=None, *args):
        return self.call_async(method, signature, *args).wait()

    def error_of(self, method, signature=None, *args):
        """The short error name a call fails with, or None if it succeeds."""
        return self.call_async(method, signature, *args).error_name()

    @property
    def state(self):
        return self.client.get_property(self.path, BACKUP_IFACE, 'State')

    def prop(self, name):
        return self.client.get_property(self.path, BACKUP_IFACE, name)

    # the requester methods, spelled as on the bus
    def InitializeForBackup(self):
        return self.call('InitializeForBackup')

    def InitializeForRestore(self):
        return self.call('InitializeForRestore')

    def SetContext(self, context):
        return self.call('SetContext', '(s)', context)

    def GatherWriterMetadata(self):
        return self.call('GatherWriterMetadata')

    def GatherWriterStatus(self):
        return self.call('GatherWriterStatus')

    def StartSnapshotSet(self):
        return self.call('StartSnapshotSet')

    def AddToSnapshotSet(self, path):
        return self.call('AddToSnapshotSet', '(s)', path)

    def PrepareForBackup(self):
        return self.call('PrepareForBackup')

    def DoSnapshotSet(self):
        return self.call('DoSnapshotSet')

    def BackupComplete(self):
        return self.call('BackupComplete')

    def AbortBackup(self):
        return self.call('AbortBackup')

    def PreRestore(self):
        return self.call('PreRestore')

    def PostRestore(self):
        return self.call('PostRestore')

    def Release(self):
        return self.call('Release')

    def status_of(self, writer):
        """(state, failure, message) of @writer from GatherWriterStatus."""
        for path, _name, state, failure, message in self.GatherWriterStatus():
            if path == writer.path:
                return state, failure, message
        raise AssertionError(f'{writer.name} is not in GatherWriterStatus')


class Event:
    def __init__(self, name, serial, backup, details):
        self.name = name
        self.serial = serial
        self.backup = backup
        self.details = details
        self.time = time.monotonic()

    def __repr__(self):
        return f'<{self.name} #{self.serial}>'


class Writer(Client):
    """An application registered as a writer, answering events by a script.

    script maps an event name to 'ack' (the default), 'hang' (never answer),
    ('fail', failure, message), or a callable(writer, event) that answers
    itself (or not). Every event is recorded in events, and every Ack/Fail
    error reply in reply_errors.
    """

    def __init__(self, address, name, options=None, script=None, uid=None):
        super().__init__(address, uid)
        self.name = name
        self.script = dict(script or {})
        self.events = []
        self.reply_errors = []
        self.pending = []
        self.connection.signal_subscribe(None, WRITER_IFACE, None, None, None,
                                         Gio.DBusSignalFlags.NONE, self._on_signal)
        self.path = self.call(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                              GLib.Variant('(sa{sv})', (name, vardict(options))))

    def _on_signal(self, connection, sender, path, interface, signal_name, params):
        if path != self.path:
            return
        serial, backup, details = params.unpack()
        event = Event(signal_name, serial, backup, details)
        self.events.append(event)
        action = self.script.get(signal_name, 'ack')
        if callable(action):
            action(self, event)
        elif action == 'ack':
            self.ack(event.serial)
        elif action == 'hang':
            self.pending.append(event)
        else:
            _, failure, message = action
            self.fail(event.serial, failure, message)

    def _reply_done(self, pending):
        if pending.error is not None:
            self.reply_errors.append(pending.error)

    def ack(self, serial):
        return self.call_async(self.path, WRITER_IFACE, 'Ack', GLib.Variant('(t)', (serial,)),
                               on_done=self._reply_done)

    def fail(self, serial, failure, message=''):
        return self.call_async(self.path, WRITER_IFACE, 'Fail',
                               GLib.Variant('(tss)', (serial, failure, message)),
                               on_done=self._reply_done)

    def add_backup_file(self, serial, path, fd):
        """AddBackupFile (docs/design.md §4c) with @fd; a PendingCall."""
        return self.call_async(self.path, WRITER_IFACE, 'AddBackupFile',
                               GLib.Variant('(tsh)', (serial, path, 0)), fds=[fd])

    def names(self):
        return [e.name for e in self.events]

    def count(self, event_name):
        return self.names().count(event_name)

    def last(self, event_name):
        for event in reversed(self.events):
            if event.name == event_name:
                return event
        raise AssertionError(f'{self.name} never received {event_name}')

    def wait_for(self, event_name, count=1, timeout=CALL_TIMEOUT_S):
        iterate_until(lambda: self.count(event_name) >= count, timeout,
                      f'{self.name} to receive {event_name}')
        return self.last(event_name)

    def is_frozen(self):
        """True if the last Freeze was followed by neither Thaw nor Abort."""
        frozen = False
        for name in self.names():
            if name == 'Freeze':
                frozen = True
            elif name in ('Thaw', 'Abort'):
                frozen = False
        return frozen

    def prop(self, name):
        return self.get_property(self.path, WRITER_IFACE, name)


class BtrfsImage:
    """A btrfs filesystem in a file, loop-mounted in a temporary directory."""

    def __init__(self, size='512M'):
        self.dir = tempfile.mkdtemp(prefix='vss-btrfs-')
        self.image = os.path.join(self.dir, 'btrfs.img')
        self.mountpoint = os.path.join(self.dir, 'mnt')
        os.mkdir(self.mountpoint)
        self.mounted = False
        try:
            subprocess.run(['truncate', '-s', size, self.image], check=True)
            subprocess.run(['mkfs.btrfs', '-q', '-f', self.image], check=True,
                           stdout=subprocess.DEVNULL)
            # mount -o loop picks a free loop device itself
            subprocess.run(['mount', '-o', 'loop', self.image, self.mountpoint], check=True)
            self.mounted = True
            os.chmod(self.dir, 0o755)
        except BaseException:
            self.destroy()
            raise

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def create_subvolume(self, name):
        path = self.path(name)
        subprocess.run(['btrfs', '-q', 'subvolume', 'create', path], check=True,
                       stdout=subprocess.DEVNULL)
        return path

    def delete_subvolume_tree(self, path):
        """Deletes a subvolume with every subvolume (snapshot) below it."""
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
            os.unlink(path)
            return
        if not os.path.isdir(path):
            return
        try:
            if btrfsutil.is_subvolume(path):
                btrfsutil.delete_subvolume(path, recursive=True)
                return
        except btrfsutil.BtrfsUtilError:
            pass
        shutil.rmtree(path, ignore_errors=True)

    def destroy(self):
        if self.mounted:
            for _ in range(50):
                if subprocess.run(['umount', self.mountpoint]).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                subprocess.run(['umount', '-l', self.mountpoint])
            self.mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)


BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <keep_umask/>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <!-- the mock polkitd -->
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <!-- many writers come from one uid in these tests -->
  <limit name="max_connections_per_user">4000</limit>
  <limit name="max_completed_connections">4000</limit>
  <limit name="max_incomplete_connections">1000</limit>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">5000</limit>
  <!-- a test class's own (VssTestCase.bus_limits): the last value counts -->
{extra_limits}  <include>{policy}</include>
</busconfig>
'''


class Vssd:
    """vssd from the build tree, with its log kept for when a test fails."""

    def __init__(self, address, state_dir, log_path):
        self.address = address
        self.state_dir = state_dir
        self.log_path = log_path
        self.process = None

    def start(self, extra_args=(), wait=True):
        binary = os.environ.get('VSSD')
        if not binary:
            raise unittest.SkipTest('VSSD is not set: run the tests with meson test')
        env = dict(os.environ)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        env['G_DEBUG'] = 'fatal-criticals'
        env['G_MESSAGES_DEBUG'] = 'all'
        with open(self.log_path, 'ab') as log:
            log.write(b'---- vssd starts ----\n')
            log.flush()
            self.process = subprocess.Popen(
                [binary, '--state-dir', self.state_dir, '--verbose', *extra_args],
                env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for_name()

    def wait_for_name(self, timeout=20):
        bus = Client(self.address)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f'vssd exited with {self.process.returncode}:\n'
                                         + self.log())
                try:
                    bus.connection.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                             'org.freedesktop.DBus', 'GetNameOwner',
                                             GLib.Variant('(s)', (VSS_NAME,)), None,
                                             Gio.DBusCallFlags.NONE, 1000, None)
                    return
                except GLib.Error:
                    time.sleep(0.02)
            raise AssertionError('vssd did not take its bus name:\n' + self.log())
        finally:
            bus.close()

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, as systemd would; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError('vssd did not stop on SIGTERM:\n' + self.log())
        status = self.process.returncode
        self.process = None
        return status

    def kill(self):
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''


class Terminated(Exception):
    """SIGTERM (a meson timeout): fail the test, and still tear everything down."""


def _terminated(signum, frame):
    raise Terminated('terminated by SIGTERM (a timeout?)')


class VssTestCase(dbusmock.DBusTestCase):
    """Base class: a private system bus, mock polkitd, btrfs, and vssd per test."""

    # the size of the (sparse) btrfs image; the database writers' tests need more
    image_size = '512M'
    # <limit> values of the test bus that a test class needs otherwise than
    # BUS_CONFIG sets them, {name: value}: e.g. the system bus's defaults
    bus_limits = {}

    @classmethod
    def setUpClass(cls):
        # meson kills a test that runs too long with SIGTERM: turn it into a
        # failure of the test, so that cleanups unmount and stop everything
        signal.signal(signal.SIGTERM, _terminated)
        if os.geteuid() != 0:
            raise unittest.SkipTest('the integration tests need root (loop mounts, btrfs)')
        for tool in ('mkfs.btrfs', 'btrfs', 'dbus-daemon', 'mount'):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f'{tool} is missing')
        cls.tmpdir = tempfile.mkdtemp(prefix='vss-test-')
        os.chmod(cls.tmpdir, 0o755)
        cls.btrfs = None
        cls.bus_pid = None
        try:
            cls.btrfs = BtrfsImage(cls.image_size)
            policy = os.path.join(SRCDIR, 'dbus', 'org.freedesktop.Vss1.conf')
            socket_path = os.path.join(cls.tmpdir, 'system_bus_socket')
            config = os.path.join(cls.tmpdir, 'system.conf')
            with open(config, 'w') as f:
                extra_limits = ''.join(f'  <limit name="{name}">{value}</limit>\n'
                                       for name, value in cls.bus_limits.items())
                f.write(BUS_CONFIG.format(socket=socket_path, policy=policy,
                                          extra_limits=extra_limits))
            cls.bus_pid, cls.address = cls.start_dbus(conf=config)
            os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = cls.address
        except BaseException:
            cls._teardown_class_resources()
            raise

    @classmethod
    def _teardown_class_resources(cls):
        if cls.bus_pid:
            cls.stop_dbus(cls.bus_pid)
            cls.bus_pid = None
        if cls.btrfs is not None:
            cls.btrfs.destroy()
            cls.btrfs = None
        shutil.rmtree(cls.tmpdir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown_class_resources()
        os.environ.pop('DBUS_SYSTEM_BUS_ADDRESS', None)

    def setUp(self):
        self.clients = []
        self.subvolumes = []
        self.polkitd, self.polkitd_mock = self.spawn_server_template(
            'polkitd', {}, stdout=subprocess.DEVNULL)
        self.addCleanup(self._stop_polkitd)
        self.state_dir = tempfile.mkdtemp(prefix='state-', dir=self.tmpdir)
        self.vssd = Vssd(self.address, self.state_dir, os.path.join(self.state_dir, 'vssd.log'))
        self.addCleanup(self._cleanup)
        self.vssd.start()

    def _stop_polkitd(self):
        self.polkitd.terminate()
        self.polkitd.wait()

    def _cleanup(self):
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.close()
        status = None
        with contextlib.suppress(AssertionError):
            status = self.vssd.stop()
        failed = self._outcome is not None and not self._outcome.success
        if failed or (status not in (None, 0)):
            sys.stderr.write(f'\n---- vssd log ----\n{self.vssd.log()}\n')
        for path in self.subvolumes:
            self.btrfs.delete_subvolume_tree(path)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # ---- helpers for tests ----------------------------------------------------

    def client(self, uid=None):
        client = Client(self.address, uid)
        self.clients.append(client)
        return client

    def requester(self, uid=None, options=None):
        """A new connection with a new BackupComponents object."""
        return self.client(uid).create_backup(options)

    def writer(self, name, options=None, script=None, uid=None):
        writer = Writer(self.address, name, options, script, uid)
        self.clients.append(writer)
        return writer

    def subvolume(self, name, files=None):
        """A fresh subvolume with @files ({name: bytes}), deleted after the test."""
        path = self.btrfs.create_subvolume(f'{self.id().split(".")[-1][:40]}-{name}')
        self.subvolumes.append(path)
        for file_name, content in (files or {}).items():
            with open(os.path.join(path, file_name), 'wb') as f:
                f.write(content)
        return path

    def snapshots_on_disk(self, subvolume):
        """The entries of <subvolume>/.vss-snapshots, or [] if there is none."""
        snapdir = os.path.join(subvolume, '.vss-snapshots')
        if not os.path.isdir(snapdir):
            return []
        return sorted(os.listdir(snapdir))

    def records(self):
        """The snapshot-set records in the state directory."""
        sets = os.path.join(self.state_dir, 'snapshot-sets')
        if not os.path.isdir(sets):
            return []
        return sorted(n for n in os.listdir(sets) if n.endswith('.set'))

    def backup_until_prepared(self, backup, volumes, context=None):
        backup.InitializeForBackup()
        if context:
            backup.SetContext(context)
        backup.GatherWriterMetadata()
        set_id = backup.StartSnapshotSet()
        for volume in volumes:
            backup.AddToSnapshotSet(volume)
        backup.PrepareForBackup()
        return set_id

    def assertCallFails(self, error_name, pending_or_callable, *args):
        """The call fails with org.freedesktop.Vss1.Error.<error_name>."""
        try:
            if isinstance(pending_or_callable, PendingCall):
                pending_or_callable.wait()
            else:
                pending_or_callable(*args)
        except VssError as e:
            self.assertEqual(e.name, error_name, f'expected {error_name}, got {e}')
            return e
        self.fail(f'call succeeded; expected {error_name}')
