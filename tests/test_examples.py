#!/usr/bin/python3
"""The programs in examples/, run as a user runs them: each writer and
requester is its own process (Debian's python3, or gjs) that finds the
private test bus through DBUS_SYSTEM_BUS_ADDRESS, and a test checks what the
user sees: the lines they print, their exit status, and the snapshots on
disk. The README's snippets are run as written, too."""

import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import time
import unittest

import btrfsutil
import gi

gi.require_version('GLib', '2.0')
from gi.repository import GLib  # noqa: E402

from vsstest import (MANAGER_IFACE, SNAPSHOT_IFACE, SRCDIR, VSS_PATH,  # noqa: E402
                     WRITER_IFACE, VssTestCase)

SOURCE_ROOT = os.environ.get('VSS_SOURCE_ROOT', SRCDIR)
EXAMPLES = os.path.join(SOURCE_ROOT, 'examples')
PYTHON = '/usr/bin/python3'
GJS = '/usr/bin/gjs'
READY_TIMEOUT_S = 20
RUN_TIMEOUT_S = 60

HAPPY_EVENTS = ['identify', 'prepare-for-backup', 'prepare-for-snapshot', 'freeze', 'thaw',
                'post-snapshot', 'backup-complete', 'backup-shutdown']


class Program:
    """A program run as a subprocess. Its stdout and stderr are read without
    blocking; every wait has a deadline, and the test's cleanup kills it."""

    def __init__(self, test, argv, label, env=None, **popen):
        self.label = label
        self.out = b''
        self.err = b''
        # the environment holds DBUS_SYSTEM_BUS_ADDRESS (the test bus) and the
        # uninstalled typelib's GI_TYPELIB_PATH and LD_LIBRARY_PATH; @popen
        # may say as whom and where it runs (user, group, cwd, pass_fds)
        self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
        self.streams = {self.process.stdout: 'out', self.process.stderr: 'err'}
        for stream in self.streams:
            os.set_blocking(stream.fileno(), False)
        test.addCleanup(self.kill)

    def _pump(self, timeout):
        """Reads what the program wrote, waiting at most timeout s for it."""
        if not self.streams:
            time.sleep(timeout)
            return
        with selectors.DefaultSelector() as selector:
            for stream in self.streams:
                selector.register(stream, selectors.EVENT_READ)
            for key, _ in selector.select(timeout):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:  # end of file
                    del self.streams[key.fileobj]
                    key.fileobj.close()
                elif self.streams[key.fileobj] == 'out':
                    self.out += data
                else:
                    self.err += data

    @property
    def lines(self):
        """The complete lines of stdout so far."""
        return self.out.decode(errors='replace').split('\n')[:-1]

    @property
    def stderr(self):
        return self.err.decode(errors='replace')

    def events(self):
        """What a writer printed as `event: NAME`, in order."""
        return [line[len('event: '):] for line in self.lines if line.startswith('event: ')]

    def describe(self):
        return (f'{self.label} (exit status {self.process.returncode}):\n'
                f'--- stdout ---\n{self.out.decode(errors="replace")}'
                f'--- stderr ---\n{self.stderr}')

    def wait_for_line(self, line, timeout=READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while line not in self.lines:
            if not self.streams and self.process.poll() is not None:
                raise AssertionError(f'{line!r} never came; ' + self.describe())
            if time.monotonic() > deadline:
                raise AssertionError(f'no {line!r} after {timeout} s; ' + self.describe())
            self._pump(0.1)

    def wait_for_match(self, pattern, timeout=READY_TIMEOUT_S):
        """Waits for a line that matches @pattern (a regular expression); its match."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                match = re.fullmatch(pattern, line)
                if match:
                    return match
            if not self.streams and self.process.poll() is not None:
                raise AssertionError(f'no line like {pattern!r} came; ' + self.describe())
            if time.monotonic() > deadline:
                raise AssertionError(f'no line like {pattern!r} after {timeout} s; '
                                     + self.describe())
            self._pump(0.1)

    def finish(self, timeout=RUN_TIMEOUT_S):
        """Waits until the program has exited and closed its output; its exit status."""
        deadline = time.monotonic() + timeout
        while self.streams or self.process.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f'still running after {timeout} s; ' + self.describe())
            self._pump(0.1)
        return self.process.returncode

    def stop(self):
        """SIGTERM, as a user's Ctrl-C or systemd would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout=15)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        deadline = time.monotonic() + 5
        while self.streams and time.monotonic() < deadline:  # what it wrote before
            self._pump(0.1)
        for stream in self.streams:
            stream.close()
        self.streams = {}


class ExampleFlows:
    """The flows every pairing of example writer and requester must show."""

    WRITER = None     # 'python' or 'gjs'
    REQUESTER = None

    COMMANDS = {
        'python': lambda name: [PYTHON, os.path.join(EXAMPLES, f'{name}.py')],
        'gjs': lambda name: [GJS, '-m', os.path.join(EXAMPLES, f'{name}.js')],
    }

    def setUp(self):
        if 'gjs' in (self.WRITER, self.REQUESTER) and not os.access(GJS, os.X_OK):
            self.skipTest(f'{GJS} is missing')
        super().setUp()

    def start_writer(self, name, *args):
        writer = Program(self, self.COMMANDS[self.WRITER]('writer') + ['--name', name, *args],
                         f'{self.WRITER} writer {name!r}')
        writer.wait_for_line('ready')
        return writer

    def run_requester(self, *args):
        requester = Program(self, self.COMMANDS[self.REQUESTER]('requester') + list(args),
                            f'{self.REQUESTER} requester')
        requester.finish()
        return requester

    def stop_writer(self, writer):
        """Ends the writer as a user would, and checks that it ended cleanly."""
        self.assertEqual(writer.stop(), 0, writer.describe())
        self.assertEqual(writer.lines[-1], 'unregistered', writer.describe())
        self.assertNotRegex(writer.stderr, r'CRITICAL|WARNING|Traceback|JS ERROR')

    def wait_for_rows(self, volume):
        """Waits until the writer's database has written something."""
        journal = os.path.join(volume, 'journal')
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not os.path.exists(journal) or os.path.getsize(journal) == 0:
            self.assertLess(time.monotonic(), deadline, f'nothing written to {journal}')
            time.sleep(0.05)

    def snapshot_lines(self, program):
        """{source: snapshot} from the `snapshot: SOURCE -> PATH` lines."""
        pairs = [re.fullmatch(r'snapshot: (.*) -> (.*)', line) for line in program.lines]
        return {m.group(1): m.group(2) for m in pairs if m}

    def test_backup_freezes_and_thaws_the_writer(self):
        volume = self.subvolume('db')
        writer = self.start_writer('database', volume)
        self.wait_for_rows(volume)

        requester = self.run_requester('--persistent', volume)
        self.assertEqual(requester.process.returncode, 0, requester.describe())
        # the requester saw the writer and where its data lives
        self.assertTrue(any(line.startswith('writer: database') and volume in line
                            for line in requester.lines), requester.describe())
        snapshots = self.snapshot_lines(requester)
        self.assertEqual(list(snapshots), [volume], requester.describe())
        snapshot = snapshots[volume]
        # a persistent snapshot outlives the requester: read-only, where it
        # belongs, with the journal as it was while the writer was frozen
        self.assertEqual(self.snapshots_on_disk(volume), [os.path.basename(snapshot)])
        self.assertEqual(os.path.dirname(snapshot), os.path.join(volume, '.vss-snapshots'))
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot))
        with open(os.path.join(snapshot, 'journal')) as f:
            rows = f.read()
        self.assertTrue(rows.endswith('\n'))
        self.assertEqual(rows.splitlines(),
                         [f'row {n}' for n in range(1, len(rows.splitlines()) + 1)])

        writer.wait_for_line('event: backup-shutdown')
        self.stop_writer(writer)
        self.assertEqual(writer.events(), HAPPY_EVENTS, writer.describe())
        # the writer was told of the same snapshot
        self.assertEqual(self.snapshot_lines(writer), snapshots)

    def test_backup_context_snapshot_goes_with_the_requester(self):
        volume = self.subvolume('db')
        writer = self.start_writer('database', volume)
        requester = self.run_requester(volume)
        self.assertEqual(requester.process.returncode, 0, requester.describe())
        snapshots = self.snapshot_lines(requester)
        self.assertEqual(list(snapshots), [volume], requester.describe())
        writer.wait_for_line('event: backup-shutdown')
        # the writer saw the snapshot while it existed; release deleted it
        self.assertEqual(self.snapshot_lines(writer), snapshots)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.stop_writer(writer)
        self.assertEqual(writer.events(), HAPPY_EVENTS)

    def test_veto_aborts_every_writer_once(self):
        volume = self.subvolume('db')
        vetoer = self.start_writer('vetoer', '--veto')
        other = self.start_writer('database', volume)

        requester = self.run_requester(volume)
        self.assertEqual(requester.process.returncode, 1, requester.describe())
        # the veto's message reaches the user, and the requester aborted
        self.assertIn('vetoer', requester.stderr)
        self.assertIn('the database is busy, try later', requester.stderr)
        self.assertIn('aborted', requester.lines)
        self.assertEqual(self.snapshot_lines(requester), {})

        for writer in (vetoer, other):
            writer.wait_for_line('event: backup-shutdown')
            self.stop_writer(writer)
            events = writer.events()
            self.assertEqual(events.count('abort'), 1, writer.describe())
            # Freeze went to both at once; then the veto: neither was left
            # frozen, as the library thawed each before its abort handler ran
            self.assertEqual(events[:4], HAPPY_EVENTS[:4], writer.describe())
            self.assertEqual(events[4:], ['thaw (local)', 'abort', 'backup-shutdown'],
                             writer.describe())
        # nothing the service snapshotted is left
        self.assertEqual(self.snapshots_on_disk(volume), [])


class PythonExamplesTest(ExampleFlows, VssTestCase):
    WRITER = 'python'
    REQUESTER = 'python'


class GjsExamplesTest(ExampleFlows, VssTestCase):
    WRITER = 'gjs'
    REQUESTER = 'gjs'


class MixedExamplesTest(ExampleFlows, VssTestCase):
    """A GJS writer and a Python requester: one bus API, whatever the language."""
    WRITER = 'gjs'
    REQUESTER = 'python'


class DesktopExamplesTest(VssTestCase):
    """examples/home-backup.py and examples/notes.py where test_non_root.py
    does not take them: run by root, a directory at a subvolume's root, a
    directory that is not on btrfs."""

    def test_home_backup_of_a_subvolume_root_with_notes(self):
        volume = self.subvolume('home', {'todo': b'todo\n'})
        notes = Program(self, [PYTHON, os.path.join(EXAMPLES, 'notes.py'),
                               os.path.join(volume, 'notes')], 'notes writer')
        self.assertEqual(notes.finish(), 1, notes.describe())
        self.assertIn('cannot keep notes in', notes.stderr)  # no such directory yet
        self.assertNotIn('Traceback', notes.stderr)
        os.mkdir(os.path.join(volume, 'notes'))
        notes = Program(self, [PYTHON, os.path.join(EXAMPLES, 'notes.py'),
                               os.path.join(volume, 'notes')], 'notes writer')
        notes.wait_for_line('ready')
        archive = os.path.join(self.tmpdir, 'home.tar')
        self.addCleanup(lambda: os.path.exists(archive) and os.unlink(archive))
        backup = Program(self, [PYTHON, os.path.join(EXAMPLES, 'home-backup.py'),
                                '--dir', volume, archive], 'home-backup')
        self.assertEqual(backup.finish(), 0, backup.describe())
        count = int(notes.wait_for_match(r'frozen: (\d+) notes').group(1))
        with tarfile.open(archive) as tar:
            names = sorted(tar.getnames())
        # the subvolume's own snapshots (an empty directory in the snapshot)
        # are left out; the notes are those written before the freeze
        self.assertEqual(names, sorted(['.', './todo', './notes', './notes/index.sqlite',
                                        *(f'./notes/note-{n}.txt'
                                          for n in range(1, count + 1))]))
        notes.wait_for_line('event: backup-shutdown')
        self.assertEqual(notes.stop(), 0, notes.describe())
        self.assertEqual(notes.lines[-1], 'unregistered')
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_home_backup_of_a_directory_not_on_btrfs(self):
        # tmpfs, wherever / is: the test must not snapshot the machine's own /
        if os.stat('/dev/shm').st_dev == os.stat('/').st_dev:
            self.skipTest('/dev/shm is not a file system of its own')
        archive = os.path.join(self.tmpdir, 'tmp.tar')
        backup = Program(self, [PYTHON, os.path.join(EXAMPLES, 'home-backup.py'),
                                '--dir', '/dev/shm', archive], 'home-backup')
        self.assertEqual(backup.finish(), 1, backup.describe())
        self.assertRegex(backup.stderr, r'cannot back up .*: .* is not the root of a btrfs '
                                        r'subvolume')
        self.assertFalse(os.path.exists(archive))


class ReadmeSnippetTest(VssTestCase):
    """The README's writer snippets, run exactly as written."""

    def snippet(self, language, says="connect('freeze'", replace=None):
        """The one README snippet in @language that @says, in a file, with the
        replacements of @replace ({old: new}) made."""
        with open(os.path.join(os.path.dirname(EXAMPLES), 'README.md')) as f:
            readme = f.read()
        blocks = re.findall(rf'^```{language}\n(.*?)^```$', readme, re.M | re.S)
        snippets = [b for b in blocks if says in b]
        self.assertEqual(len(snippets), 1, f'one {language} snippet with {says} in the README')
        text = snippets[0]
        for old, new in (replace or {}).items():
            self.assertIn(old, text)
            text = text.replace(old, new)
        directory = tempfile.mkdtemp(prefix='snippet-', dir=self.tmpdir)
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, 'snippet.py' if language == 'python' else 'snippet.js')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def setUp(self):
        super().setUp()
        self.bus = self.client()

    def registered(self):
        """Whether the snippet's writer is registered with the service."""
        objects = self.bus.managed_objects()
        return any(interfaces[WRITER_IFACE]['Name'] == 'my database'
                   for interfaces in objects.values() if WRITER_IFACE in interfaces)

    def start(self, argv):
        # unbuffered, so that its prints reach the pipe at once
        writer = Program(self, argv, 'README snippet', dict(os.environ, PYTHONUNBUFFERED='1'))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.registered():
            if writer.process.poll() is not None or time.monotonic() > deadline:
                writer.kill()
                writer.finish()
                self.fail('the snippet did not register; ' + writer.describe())
            time.sleep(0.05)
        return writer

    def stop(self, writer):
        writer.kill()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while self.registered():  # the service drops a writer that left the bus
            self.assertLess(time.monotonic(), deadline, 'the snippet is still registered')
            time.sleep(0.05)

    def check(self, argv):
        volume = self.subvolume('data')
        requester = [PYTHON, os.path.join(EXAMPLES, 'requester.py'), volume]

        # acknowledged: the backup succeeds
        writer = self.start(argv)
        backup = Program(self, requester, 'python requester')
        self.assertEqual(backup.finish(), 0, backup.describe())
        writer.wait_for_line('frozen: stop writing until Thaw (at most 60000 ms)')
        self.stop(writer)
        self.assertNotRegex(writer.stderr, r'CRITICAL|WARNING|Traceback|JS ERROR')

        # with --veto, it fails and is aborted
        writer = self.start(argv + ['--veto'])
        backup = Program(self, requester, 'python requester')
        self.assertEqual(backup.finish(), 1, backup.describe())
        self.assertIn('busy, try again later', backup.stderr)
        self.assertIn('aborted', backup.lines)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.stop(writer)

    def test_python_snippet(self):
        self.check([PYTHON, self.snippet('python')])

    def test_python_add_backup_file_snippet(self):
        volume = self.subvolume('data')
        data = os.path.join(volume, 'db')
        os.mkdir(data)
        snippet = self.snippet('python', 'add_backup_file(', {"'/srv/data/db'": repr(data)})
        writer = self.start([PYTHON, snippet])
        set_id, [path] = self.bus.call(VSS_PATH, MANAGER_IFACE, 'CreateSnapshotSet',
                                       GLib.Variant('(asa{sv})', ([volume], {})))
        snapshot = self.bus.get_property(path, SNAPSHOT_IFACE, 'SnapshotPath')
        label = os.path.join(snapshot, 'db', 'backup_label')
        with open(label, 'rb') as f:
            self.assertEqual(f.read(), b'START WAL LOCATION: 0/2000028\n')
        self.assertEqual(stat.S_IMODE(os.stat(label).st_mode), 0o600)
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot))
        self.assertFalse(os.path.exists(os.path.join(data, 'backup_label')))
        self.stop(writer)
        self.assertNotRegex(writer.stderr, r'CRITICAL|WARNING|Traceback')
        self.bus.delete_snapshot_set(set_id)

    def test_python_open_snippet(self):
        volume = self.subvolume('data', {'rows': b'rows'})
        snippet = self.snippet('python', 'delete_snapshot_set_sync(',
                               {"'/srv/data'": repr(volume)})
        requester = Program(self, [PYTHON, snippet], 'README open snippet')
        self.assertEqual(requester.finish(), 0, requester.describe())
        self.assertEqual(requester.lines, [f"{volume} ['.vss-snapshots', 'rows']"])
        # it deleted its set again
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_gjs_snippet(self):
        if not os.access(GJS, os.X_OK):
            self.skipTest(f'{GJS} is missing')
        self.check([GJS, '-m', self.snippet('js')])


if __name__ == '__main__':
    unittest.main()
