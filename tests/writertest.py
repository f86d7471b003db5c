"""Test harness for the application writers of writers/ (docs/design.md §9).

On top of vsstest: a writer program run as a process of its own (as root or
as a database's OS user, like its systemd unit), a requester that runs whole
backups and copies the snapshots before they go, and the real database
servers (dbservers.py) on the test's loop-mounted btrfs image.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import btrfsutil

from dbservers import as_user
from vsstest import (SRCDIR, VSS_PATH, SNAPSHOT_IFACE, VssError, VssTestCase,
                     iterate_until)

WRITERS_DIR = os.path.join(SRCDIR, 'writers')
PYTHON = '/usr/bin/python3'


class WriterProgram:
    """vss-writer-<kind> from the source tree, its log in a file."""

    def __init__(self, test, kind, args, user=None, wrapper=(), launcher=()):
        # as the server's OS user, keeping the environment (the test bus,
        # the uninstalled typelib), as the writer's systemd unit runs it;
        # launcher: a Python program that runs the writer program (faults)
        self.test = test
        self.kind = kind
        self.log_path = os.path.join(test.state_dir, f'{kind}-writer.log')
        argv = [PYTHON, *launcher, os.path.join(WRITERS_DIR, kind, f'vss-writer-{kind}'),
                '--verbose', *args]
        env = dict(os.environ)
        env['PYTHONUNBUFFERED'] = '1'
        self.log_file = open(self.log_path, 'ab')
        # a program started again in the same test appends to the same file:
        # its log is what comes after this
        self.log_offset = self.log_file.tell()
        if user is not None:
            argv = as_user(user, argv)
        self.process = subprocess.Popen([*wrapper, *argv], env=env,
                                        stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)

    def log(self):
        with open(self.log_path, 'rb') as f:
            f.seek(self.log_offset)
            return f.read().decode(errors='replace')

    def wait_for_log(self, pattern, timeout=30, count=1):
        """Waits until pattern (a regular expression) is in the log count times."""
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.log())) < count:
            if self.process.poll() is not None:
                raise AssertionError(f'{self.kind} writer exited with {self.process.returncode}'
                                     f' waiting for {pattern!r}:\n{self.log()}')
            if time.monotonic() > deadline:
                raise AssertionError(f'{self.kind} writer: no {pattern!r} within {timeout} s:'
                                     f'\n{self.log()}')
            time.sleep(0.05)

    def wait_registered(self, count=1, timeout=30):
        self.wait_for_log(r'registered with vssd as ', timeout, count)

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f'{self.kind} writer did not stop on SIGTERM')
        self.log_file.close()
        return self.process.returncode


class WriterTestCase(VssTestCase):
    """vsstest's class with a writer program and whole backups."""

    def setUp(self):
        super().setUp()
        self.programs = []
        self.addCleanup(self._stop_programs)

    def _stop_programs(self):
        failed = self._outcome is not None and not self._outcome.success
        for program in self.programs:
            try:
                status = program.stop()
            except AssertionError as e:
                failed = True
                sys.stderr.write(f'\n{e}\n')
                status = None
            if failed or status not in (0, None):
                sys.stderr.write(f'\n---- {program.kind} writer log (exit {status}) ----\n'
                                 f'{program.log()}\n')

    def allow_non_root_writers(self):
        """The mock polkitd lets a uid other than 0 register a writer."""
        self.polkitd_mock.SetAllowed(['org.freedesktop.vss1.register-writer'])

    def start_writer(self, kind, *args, user=None, wrapper=(), launcher=()):
        program = WriterProgram(self, kind, args, user, wrapper, launcher)
        self.programs.append(program)
        program.wait_registered()
        return program

    def backup(self, volumes, inspect=None, requester_writer=None):
        """A whole backup of volumes; inspect(snapshots) runs while the
        snapshots exist ({source subvolume: snapshot path}). Returns the set
        id; raises VssError when a step fails (after AbortBackup)."""
        backup = self.requester()
        try:
            backup.InitializeForBackup()
            self.last_metadata = backup.GatherWriterMetadata()
            set_id = backup.StartSnapshotSet()
            for volume in volumes:
                backup.AddToSnapshotSet(volume)
            backup.PrepareForBackup()
            backup.DoSnapshotSet()
            snapshots = {}
            for path in backup.prop('Snapshots'):
                source = backup.client.get_property(path, SNAPSHOT_IFACE, 'SourcePath')
                snapshots[source] = backup.client.get_property(path, SNAPSHOT_IFACE,
                                                               'SnapshotPath')
            if inspect is not None:
                inspect(snapshots)
            backup.BackupComplete()
            return set_id
        except VssError:
            try:
                self.last_status = backup.GatherWriterStatus()
            except VssError:
                self.last_status = []
            if backup.state not in ('created', 'initialized', 'metadata-gathered',
                                    'snapshot-set-started', 'completed', 'aborted'):
                backup.AbortBackup()
            raise
        finally:
            backup.Release()

    def metadata(self, writer_name):
        """The metadata of a writer, as the last backup gathered it."""
        for _path, name, metadata in self.last_metadata:
            if name == writer_name:
                return metadata
        raise AssertionError(f'{writer_name} is not in {self.last_metadata}')

    def status_message(self, writer_name):
        """(state, failure, message) of a writer in the last failed backup."""
        for _path, name, state, failure, message in self.last_status:
            if name == writer_name:
                return state, failure, message
        raise AssertionError(f'{writer_name} is not in {self.last_status}')

    def assert_unrelated_backup_sends_nothing(self, program):
        """A backup of a subvolume that holds none of the writer's paths
        sends it no event after Identify (docs/design.md §4a)."""
        self.backup([self.subvolume('unrelated')])
        self.assertNotIn('prepare-for-backup', program.log())
        self.assertNotIn('freeze: received', program.log())

    def assert_backups_across_a_server_restart(self, program, restart, lost_session_line):
        """A backup, the application restarted, another backup: the writer
        connected again by itself."""
        self.backup(self.volumes)
        restart()
        self.backup(self.volumes)
        self.assertIn(lost_session_line, program.log())
        self.assertEqual(len(re.findall(r'post-snapshot of \S+: done', program.log())), 2)

    def kill_vssd_and_restart(self, programs):
        """vssd dies (SIGKILL) and is started again; waits until the writer
        programs registered again."""
        counts = [len(re.findall(r'registered with vssd as ', p.log())) for p in programs]
        self.vssd.kill()
        self.vssd.start()
        for program, count in zip(programs, counts):
            program.wait_registered(count + 1)


class ServerWriterTestCase(WriterTestCase):
    """One real database server per test class, on the class's btrfs image:
    start_server() makes it; it is stopped before the image is unmounted,
    also when setUpClass fails half-way or a meson timeout (SIGTERM) hits."""

    server = None
    # servers, their WAL and binary logs, snapshots and restored copies
    image_size = '3G'
    # each data directory at the root of its subvolume instead of below it
    AT_ROOTS = False
    # what the writer's warning about that layout names (its consequence)
    LAYOUT_ADVICE = None

    @classmethod
    def place(cls, subvolume, name):
        """Where a directory of the server lies in subvolume."""
        return subvolume if cls.AT_ROOTS else os.path.join(subvolume, name)

    def assert_layout_advice(self, program):
        """A data directory at a subvolume's root gets vssd's .vss-snapshots
        in it: the writer tells the operator what that breaks, once."""
        if self.AT_ROOTS:
            self.assertEqual(program.log().count('is the root of a btrfs subvolume'), 1)
            self.assertIn(self.LAYOUT_ADVICE, program.log())
        else:
            self.assertNotIn('is the root of a btrfs subvolume', program.log())

    @classmethod
    def start_server(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.start_server()
        except BaseException:
            cls._stop_server()
            super().tearDownClass()
            raise

    @classmethod
    def _stop_server(cls):
        if cls.server is not None:
            cls.server.stop()

    @classmethod
    def tearDownClass(cls):
        cls._stop_server()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        # the writers run as the server's OS user, as their units do
        self.allow_non_root_writers()

    def copy_snapshots(self, name='restore'):
        """(inspect, copies): inspect copies each snapshot of a backup to a
        fresh directory, to restore from; copies maps each volume to its copy."""
        restore = os.path.join(self.btrfs.mountpoint, name)
        self.addCleanup(shutil.rmtree, restore, True)
        copies = {}

        def inspect(snapshots):
            for volume, snapshot in snapshots.items():
                # the files the writer added are in; nobody adds more
                # (docs/design.md §4c: read-only before DoSnapshotSet returns)
                self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot), snapshot)
                copies[volume] = os.path.join(restore, os.path.basename(volume))
                copy_tree(snapshot, copies[volume])
        return inspect, copies


def copy_tree(source, destination):
    """A copy of a snapshot to restore from: reflinks, modes and owners kept,
    the nested .vss-snapshots subvolume left out."""
    os.makedirs(destination, exist_ok=True)
    # the copy's root as the snapshot's (a data directory may be a subvolume)
    st = os.stat(source)
    os.chown(destination, st.st_uid, st.st_gid)
    os.chmod(destination, st.st_mode & 0o7777)
    for name in os.listdir(source):
        if name == '.vss-snapshots':
            continue
        subprocess.run(['cp', '-a', '--reflink=auto', os.path.join(source, name), destination],
                       check=True)


__all__ = ['WriterTestCase', 'ServerWriterTestCase', 'WriterProgram', 'copy_tree',
           'iterate_until', 'VSS_PATH']
