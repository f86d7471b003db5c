#!/usr/bin/python3
"""vssctl, the command-line front end, against a real vssd on a private bus:
listing writers and snapshots (tables and JSON), a whole backup cycle with
`create`, deleting sets, `monitor`, exit codes and the bash completion.

vssctl runs as a subprocess; the writers live in this process and answer
their events only while its main loop runs, so every vssctl run spins the
loop until vssctl exits."""

import datetime
import json
import os
import pwd
import re
import signal
import subprocess
import tempfile
import time
import unittest

import btrfsutil
import dbus

from vsstest import (CALL_TIMEOUT_S, NOBODY_UID, SNAPSHOT_IFACE, SRCDIR, VssTestCase,
                     iterate_until, spin)

VSSCTL = os.path.join(os.environ.get('VSS_BUILD_ROOT', ''), 'tools', 'vssctl')
COMPLETION = os.path.join(SRCDIR, 'tools', 'vssctl.bash-completion')
USER_NAME = 'vssctl-test'

FULL_CYCLE = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
              'PostSnapshot', 'BackupComplete', 'BackupShutdown']
CLASS_ID = '8f4e3a4e-55b7-4a8e-a0a0-3d6f6a1c2b10'
TIMESTAMP = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:[+-]\d\d:\d\d|Z)'


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return f'<vssctl exit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}>'


class Monitor:
    """`vssctl monitor` running; lines() collects what it printed so far."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([VSSCTL, 'monitor', *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b''
        self.received = []

    def _read(self):
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b'\n')
        self.received += [line.decode() for line in complete]

    def wait_for(self, pattern, timeout=CALL_TIMEOUT_S):
        """Spins the main loop until a line matches @pattern; returns it."""
        regex = re.compile(pattern)
        found = []

        def match():
            self._read()
            found[:] = [line for line in self.received if regex.search(line)]
            if not found and self.proc.poll() is not None:
                raise AssertionError(f'vssctl monitor exited with {self.proc.returncode}: '
                                     f'{self.proc.stderr.read().decode()}')
            return bool(found)

        try:
            iterate_until(match, timeout, f'a line matching {pattern!r}')
        except AssertionError as e:
            raise AssertionError(f'{e}; vssctl monitor printed {self.received}') from None
        return found[0]

    def stop(self, signum=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            status = self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
        return status


class TestUser:
    """An ordinary user (useradd --system), for the class that makes it: the
    bus wants a user it can look up. Removed again unless it was there."""

    def __init__(self, name=USER_NAME):
        self.name = name
        self.created = False
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            # another test on the machine may hold the lock of /etc/passwd
            for _ in range(50):
                if subprocess.run(['useradd', '--system', '--user-group', '--no-create-home',
                                   '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin',
                                   name], stderr=subprocess.DEVNULL).returncode == 0:
                    break
                time.sleep(0.1)
            entry = pwd.getpwnam(name)
            self.created = True
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid

    def process_args(self):
        """Popen's arguments that run a process as the user, with no other group."""
        return {'user': self.uid, 'group': self.gid, 'extra_groups': []}

    def remove(self):
        for _ in range(50):
            if not self.created or subprocess.run(['userdel', self.name],
                                                  stderr=subprocess.DEVNULL).returncode == 0:
                return
            time.sleep(0.1)


class VssctlTestCase(VssTestCase):
    def setUp(self):
        if not os.access(VSSCTL, os.X_OK):
            raise unittest.SkipTest(f'{VSSCTL} is not built')
        super().setUp()
        self.monitors = []
        self.addCleanup(self._stop_monitors)

    def _stop_monitors(self):
        for monitor in self.monitors:
            monitor.stop(signal.SIGKILL)

    def vssctl(self, *args, cwd=None, env=None, user=None, group=None, extra_groups=None,
               timeout=CALL_TIMEOUT_S):
        """Runs vssctl to its end while the main loop runs."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([VSSCTL, *args], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, cwd=cwd,
                                    env=env, user=user, group=group,
                                    extra_groups=extra_groups)
            try:
                iterate_until(lambda: proc.poll() is not None, timeout, f'vssctl {args}')
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            out.seek(0)
            err.seek(0)
            return Result(proc.returncode, out.read().decode(), err.read().decode())

    def assertExit(self, result, status):
        self.assertEqual(result.returncode, status, result)

    def monitor(self, *args):
        monitor = Monitor(*args)
        self.monitors.append(monitor)
        return monitor

    def listed_snapshots(self):
        admin = self.client()
        return {path: interfaces[SNAPSHOT_IFACE]
                for path, interfaces in admin.managed_objects().items()
                if SNAPSHOT_IFACE in interfaces}

    def assertReadOnlySnapshotOf(self, snapshot, volume):
        self.assertEqual(os.path.dirname(snapshot), os.path.join(volume, '.vss-snapshots'))
        self.assertTrue(os.path.isdir(snapshot))
        self.assertTrue(btrfsutil.is_subvolume(snapshot))
        self.assertTrue(btrfsutil.get_subvolume_read_only(snapshot))


class ListWritersTest(VssctlTestCase):
    def fail_one_writer(self):
        """Two writers; 'mail store' vetoes a backup, so their states differ."""
        database = self.writer('database', options={'class-id': CLASS_ID})
        mail = self.writer('mail store', script={'Freeze': ('fail', 'retryable', 'busy')})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.subvolume('v')])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        return database, mail

    def test_json_lists_the_writers_with_their_states(self):
        database, mail = self.fail_one_writer()
        result = self.vssctl('list-writers', '--json')
        self.assertExit(result, 0)
        writers = json.loads(result.stdout)['writers']
        # in the order they registered
        self.assertEqual([w['name'] for w in writers], ['database', 'mail store'])
        self.assertEqual([w['object_path'] for w in writers], [database.path, mail.path])
        by_name = {w['name']: w for w in writers}
        self.assertEqual(by_name['mail store']['state'], 'failed-at-freeze')
        self.assertEqual(by_name['mail store']['failure'], 'retryable')
        self.assertEqual(by_name['mail store']['failure_message'], 'busy')
        # vssd makes up a class id for a writer that gives none
        self.assertRegex(by_name['mail store']['class_id'], r'^[0-9a-f-]{36}$')
        self.assertEqual(by_name['database']['class_id'], CLASS_ID)
        self.assertIsNone(by_name['database']['failure'])
        # the same states the bus shows
        for writer in (database, mail):
            self.assertEqual(by_name[writer.name]['state'], writer.prop('State'))

    def test_table_is_aligned(self):
        self.fail_one_writer()
        result = self.vssctl('list-writers')
        self.assertExit(result, 0)
        header, *rows = result.stdout.splitlines()
        self.assertRegex(header, r'^NAME +STATE +FAILURE +CLASS ID +OBJECT PATH +MESSAGE$')
        self.assertEqual(len(rows), 2)
        column = header.index('STATE')
        self.assertTrue(rows[0].startswith('database '))
        self.assertTrue(rows[1].startswith('mail store '))
        self.assertEqual(rows[1][column:].split()[0:2], ['failed-at-freeze', 'retryable'])
        self.assertTrue(rows[1].endswith(' busy'))
        self.assertIn(CLASS_ID, rows[0])

    def test_control_characters_stay_on_one_line(self):
        # vssd keeps line breaks in failure messages; the table must not
        self.writer('w', script={'Freeze': ('fail', 'retryable', 'line one\nline two')})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.subvolume('v')])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        result = self.vssctl('list-writers')
        self.assertExit(result, 0)
        self.assertEqual(len(result.stdout.splitlines()), 2, result)
        self.assertIn('line one\\x0aline two', result.stdout)
        # JSON keeps the text as it is
        result = self.vssctl('list-writers', '--json')
        self.assertEqual(json.loads(result.stdout)['writers'][0]['failure_message'],
                         'line one\nline two')

    def test_writers_alias_and_metadata_show_the_paths(self):
        volume = self.subvolume('data')
        scoped = self.writer('scoped', options={'paths': [volume]})
        everywhere = self.writer('everywhere')
        silent = self.writer('silent', script={'Identify': ('fail', 'retryable', 'no')})
        # without --metadata nothing is sent: the states as the bus shows them
        plain = self.vssctl('writers')
        self.assertExit(plain, 0)
        self.assertEqual(plain.stdout, self.vssctl('list-writers').stdout)
        self.assertEqual(scoped.names() + everywhere.names(), [])

        result = self.vssctl('writers', '--metadata', '--json')
        self.assertExit(result, 0)
        writers = {w['name']: w for w in json.loads(result.stdout)['writers']}
        self.assertEqual(writers['scoped']['paths'], [volume])
        self.assertEqual(writers['scoped']['metadata']['paths'], [volume])
        self.assertEqual(writers['everywhere']['paths'], [])
        # no answer to Identify: nothing known
        self.assertIsNone(writers['silent']['paths'])
        self.assertIsNone(writers['silent']['metadata'])
        for writer in (scoped, everywhere, silent):
            self.assertEqual(writer.names(), ['Identify'])

        result = self.vssctl('list-writers', '--metadata')
        self.assertExit(result, 0)
        header, *rows = result.stdout.splitlines()
        self.assertRegex(header,
                         r'^NAME +STATE +FAILURE +CLASS ID +OBJECT PATH +PATHS +MESSAGE$')
        column = header.index('PATHS')
        cells = {row.split()[0]: row[column:].split()[0] for row in rows}
        self.assertEqual(cells, {'scoped': volume, 'everywhere': '-', 'silent': '?'})

        # Identify is a backup's first step: polkit's action for backups
        result = self.vssctl('writers', '--metadata', user=NOBODY_UID)
        self.assertExit(result, 3)
        self.assertIn('NotAuthorized', result.stderr)

    def test_no_writers(self):
        result = self.vssctl('list-writers')
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, 'No writers are registered.\n')
        result = self.vssctl('list-writers', '--json')
        self.assertExit(result, 0)
        self.assertEqual(json.loads(result.stdout), {'writers': []})


class CreateTest(VssctlTestCase):
    def test_persistent_prints_a_snapshot_path_that_exists(self):
        writer = self.writer('db')
        volume = self.subvolume('data', {'table': b'rows'})
        result = self.vssctl('create', '--persistent', volume)
        self.assertExit(result, 0)
        [snapshot] = result.stdout.splitlines()
        self.assertReadOnlySnapshotOf(snapshot, volume)
        with open(os.path.join(snapshot, 'table'), 'rb') as f:
            self.assertEqual(f.read(), b'rows')
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        # kept after vssctl is gone, as a persistent snapshot of vssd
        [props] = self.listed_snapshots().values()
        self.assertEqual(props['SnapshotPath'], snapshot)
        self.assertEqual(props['Context'], 'persistent')
        self.assertEqual(len(self.records()), 1)

    def test_reports_the_writers_that_took_part(self):
        volume = self.subvolume('data')
        elsewhere = self.subvolume('elsewhere')
        scoped = self.writer('scoped', options={'paths': [volume]})
        self.writer('everywhere')
        outsider = self.writer('outsider', options={'paths': [elsewhere]})
        self.writer('silent', script={'Identify': ('fail', 'retryable', 'not now')})
        result = self.vssctl('create', '--persistent', volume)
        self.assertExit(result, 0)
        self.assertIn('Writers that took part: "scoped", "everywhere".\n', result.stderr)
        self.assertIn('writer "silent" failed Identify and takes no part: not now',
                      result.stderr)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        scoped.wait_for('BackupShutdown')
        self.assertEqual(scoped.names(), FULL_CYCLE)
        self.assertEqual(outsider.names(), ['Identify'])

        result = self.vssctl('create', '--persistent', '--json', volume)
        self.assertExit(result, 0)
        output = json.loads(result.stdout)
        self.assertEqual([w['name'] for w in output['writers']], ['scoped', 'everywhere'])
        self.assertEqual(output['writers'][0]['object_path'], scoped.path)

        result = self.vssctl('create', '--persistent', elsewhere)
        self.assertExit(result, 0)
        self.assertIn('Writers that took part: "everywhere", "outsider".', result.stderr)

    def test_no_writer_took_part(self):
        volume = self.subvolume('data')
        result = self.vssctl('create', volume, '--', 'true')
        self.assertExit(result, 0)
        self.assertEqual(result.stderr, 'No writer took part.\n')

    def test_relative_path_and_json(self):
        volumes = [self.subvolume('a'), self.subvolume('b')]
        parent = os.path.dirname(volumes[0])
        result = self.vssctl('create', '--persistent', '--json',
                             os.path.basename(volumes[1]) + '/', volumes[0], cwd=parent)
        self.assertExit(result, 0)
        output = json.loads(result.stdout)
        # in the order of the PATH arguments
        self.assertEqual([s['source_path'] for s in output['snapshots']],
                         [volumes[1], volumes[0]])
        for snapshot, volume in zip(output['snapshots'], [volumes[1], volumes[0]]):
            self.assertReadOnlySnapshotOf(snapshot['snapshot_path'], volume)
            self.assertEqual(snapshot['snapshot_set_id'], output['snapshot_set_id'])
            self.assertEqual(snapshot['context'], 'persistent')
            self.assertEqual(os.path.basename(snapshot['snapshot_path']), snapshot['id'])

    def test_veto_exits_1_names_the_writer_and_keeps_nothing(self):
        writer = self.writer('w', script={'Freeze': ('fail', 'retryable', 'busy')})
        volume = self.subvolume('data')
        result = self.vssctl('create', '--persistent', volume)
        self.assertExit(result, 1)
        self.assertEqual(result.stdout, '')
        self.assertIn('WriterFailure', result.stderr)
        self.assertIn("'w'", result.stderr)
        self.assertIn('busy', result.stderr)
        self.assertIn('The backup was aborted: no snapshot was kept.', result.stderr)
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.count('Abort'), 1)
        self.assertNotIn('BackupComplete', writer.names())
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        self.assertEqual(self.listed_snapshots(), {})

    def test_refused_path_exits_1_and_creates_nothing(self):
        writer = self.writer('w')
        volume = self.subvolume('data')
        plain = os.path.join(volume, 'plain-directory')
        os.mkdir(plain)
        result = self.vssctl('create', '--persistent', plain)
        self.assertExit(result, 1)
        self.assertIn('VolumeNotSupported', result.stderr)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        # refused before PrepareForBackup: nothing to abort
        self.assertNotIn('PrepareForBackup', writer.names())
        result = self.vssctl('create', '--persistent', os.path.join(volume, 'missing'))
        self.assertExit(result, 1)

    def test_command_runs_while_the_snapshots_exist(self):
        writer = self.writer('db')
        volume = self.subvolume('data', {'table': b'at backup'})
        script = ('test "$(btrfs property get -ts "$VSS_SNAPSHOT_PATH" ro)" = ro=true || exit 9; '
                  'printf "%s|%s|%s" "$(cat "$VSS_SNAPSHOT_PATH/table")" '
                  '"$VSS_SNAPSHOT_PATHS" "$VSS_SNAPSHOT_SET_ID"')
        result = self.vssctl('create', volume, '--', 'sh', '-c', script)
        self.assertExit(result, 0)
        content, paths, set_id = result.stdout.split('|')
        self.assertEqual(content, 'at backup')
        self.assertEqual(os.path.dirname(paths), os.path.join(volume, '.vss-snapshots'))
        self.assertRegex(set_id, r'^[0-9a-f-]{36}$')
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        # an ordinary backup: its snapshots went with it
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.listed_snapshots(), {})

    def test_failing_command_aborts_the_backup(self):
        writer = self.writer('db')
        volume = self.subvolume('data')
        result = self.vssctl('create', '--persistent', volume, '--', 'sh', '-c', 'exit 3')
        self.assertExit(result, 4)
        self.assertIn('exited with status 3', result.stderr)
        self.assertEqual(result.stdout, '')
        writer.wait_for('BackupShutdown')
        # the writer is not told the backup succeeded
        self.assertNotIn('BackupComplete', writer.names())
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])

        result = self.vssctl('create', volume, '--', '/nonexistent/command')
        self.assertExit(result, 4)
        self.assertIn('cannot run COMMAND', result.stderr)
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_sigterm_is_passed_to_the_command(self):
        writer = self.writer('db')
        volume = self.subvolume('data')
        with tempfile.TemporaryFile() as err:
            marker = os.path.join(self.state_dir, 'command-started')
            proc = subprocess.Popen([VSSCTL, 'create', volume, '--', 'sh', '-c',
                                     'touch "$0"; exec sleep 60', marker],
                                    stdout=subprocess.DEVNULL, stderr=err)
            try:
                iterate_until(lambda: os.path.exists(marker), what='COMMAND to start')
                self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
                proc.send_signal(signal.SIGTERM)
                iterate_until(lambda: proc.poll() is not None, what='vssctl to exit')
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            err.seek(0)
            stderr = err.read().decode()
        self.assertEqual(proc.returncode, 4, stderr)
        self.assertIn('killed by signal 15', stderr)
        writer.wait_for('BackupShutdown')
        self.assertEqual(self.snapshots_on_disk(volume), [])


class CommandTest(VssctlTestCase):
    """What COMMAND is given (docs/design.md §6a): placeholders; the
    snapshots as inherited descriptors for a user who is not root; --in-place."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = TestUser()

    @classmethod
    def tearDownClass(cls):
        cls.user.remove()
        super().tearDownClass()

    def allow_backups(self):
        self.polkitd_mock.SetAllowed(dbus.Array(['org.freedesktop.vss1.backup'], signature='s'))

    def test_placeholders(self):
        volumes = [self.subvolume('a'), self.subvolume('b')]
        parent = os.path.dirname(volumes[0])
        relative = os.path.basename(volumes[1])
        writer = self.writer('db')
        args = ['{%s}' % volumes[0], '{%s}/f' % relative, 'x{%s}y' % volumes[1],
                '{{}}', '{{%s}}' % relative, '${HOME}', '{a,b}', '{', '}{']
        result = self.vssctl('create', volumes[0], relative, '--', 'sh', '-c',
                             'printf "%s\\n" "$VSS_SNAPSHOT_PATHS" "$@"', 'sh', *args,
                             cwd=parent)
        self.assertExit(result, 0)
        lines = result.stdout.splitlines()
        snapshots = lines[:2]
        for snapshot, volume in zip(snapshots, volumes):
            self.assertEqual(os.path.dirname(snapshot), os.path.join(volume, '.vss-snapshots'))
        # {PATH} as written among the PATHs, or resolved
        self.assertEqual(lines[2:], [snapshots[0], snapshots[1] + '/f', f'x{snapshots[1]}y',
                                     '{}', '{%s}' % relative, '${HOME}', '{a,b}', '{', '}{'])

        # {} stands for the only PATH; with two it is a usage error, before
        # any writer hears of a backup
        result = self.vssctl('create', *volumes, '--', 'echo', '{}')
        self.assertExit(result, 2)
        self.assertIn('{} in COMMAND stands for the snapshot of the only PATH', result.stderr)
        self.assertEqual(writer.count('Identify'), 1)
        result = self.vssctl('create', volumes[0], '--', 'echo', '{}', '{{}}')
        self.assertExit(result, 0)
        snapshot, literal = result.stdout.split()
        self.assertEqual(os.path.dirname(snapshot), os.path.join(volumes[0], '.vss-snapshots'))
        self.assertEqual(literal, '{}')

    def test_user_reads_the_snapshots_through_descriptors(self):
        self.allow_backups()
        volumes = [self.subvolume('a', {'f': b'A'}), self.subvolume('b', {'f': b'B'})]
        for volume in volumes:
            os.chown(os.path.join(volume, 'f'), self.user.uid, self.user.gid)
        writer = self.writer('db')
        script = ('ls /proc/$$/fd; echo --; '
                  'printf "%s\\n" "$VSS_SNAPSHOT_PATH" "$VSS_SNAPSHOT_PATHS" "$1" '
                  '"$(cat {@A@}/f)" "$(cat "$2/f")"; '
                  'readlink /dev/fd/3; ls @A@/.vss-snapshots 2>&1; id -u'
                  ).replace('@A@', volumes[0])
        result = self.vssctl('create', *volumes, '--', 'sh', '-c', script, 'sh',
                             '{%s}' % volumes[0], '{%s}' % volumes[1], cwd='/',
                             **self.user.process_args())
        self.assertExit(result, 0)
        fds, output = result.stdout.split('--\n')
        first, *lines = output.splitlines()
        # the snapshots, in the order of PATH…, and nothing else of vssctl's
        self.assertEqual(fds.split(), ['0', '1', '2', '3', '4'])
        self.assertEqual(first, '/dev/fd/3')
        self.assertEqual(lines[:6], ['/dev/fd/3', '/dev/fd/4', '/dev/fd/3', 'A', 'B', '/'])
        # the descriptor names no path (vssd's detached mount of the snapshot
        # alone), and the snapshots' own paths stay closed to the user
        self.assertIn('Permission denied', lines[6])
        self.assertEqual(lines[7], str(self.user.uid))
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        for volume in volumes:
            self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_in_place_is_refused_to_users(self):
        self.allow_backups()
        volume = self.subvolume('data')
        writer = self.writer('db')
        result = self.vssctl('create', '--in-place', volume, '--', 'true', cwd='/', **self.user.process_args())
        self.assertExit(result, 3)
        self.assertIn('--in-place needs root', result.stderr)
        self.assertIn('/dev/fd/N', result.stderr)
        self.assertEqual(writer.names(), [])
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_in_place_mounts_the_snapshots_over_their_paths(self):
        volume = self.subvolume('data', {'table': b'at backup'})
        inner = os.path.join(volume, 'inner')
        subprocess.run(['btrfs', '-q', 'subvolume', 'create', inner], check=True)
        with open(os.path.join(inner, 'rows'), 'wb') as f:
            f.write(b'inner at backup')

        def thaw(writer, event):
            # the live data moves on as soon as the writers are thawed
            for path in (os.path.join(volume, 'table'), os.path.join(inner, 'rows')):
                if os.path.exists(path):
                    with open(path, 'wb') as f:
                        f.write(b'after')
            writer.ack(event.serial)

        writer = self.writer('db', options={'paths': [volume, inner]}, script={'Thaw': thaw})
        # the host's mounts on the test's filesystem (other tests on the
        # machine mount and unmount theirs meanwhile)
        with open('/proc/self/mountinfo') as f:
            host_before = [line for line in f if self.btrfs.mountpoint in line]
        script = ('cat rows; echo; cat ../table; echo; '
                  'printf "%s\\n" "$VSS_SNAPSHOT_PATHS" {VOLUME}; '
                  'touch ../new 2>&1 | grep -c "Read-only file system"; '
                  'grep -c -e " VOLUME " -e " INNER " /proc/self/mountinfo; '
                  f'grep -c " VOLUME " /proc/{os.getpid()}/mountinfo || true'
                  ).replace('VOLUME', volume).replace('INNER', inner)
        # nested after the subvolume it lies in, whatever the order of PATH…
        result = self.vssctl('create', '--in-place', inner, volume, '--', 'sh', '-c', script,
                             cwd=inner)
        self.assertExit(result, 0)
        self.assertEqual(result.stdout.splitlines(),
                         ['inner at backup', 'at backup', inner, volume, volume, '1', '2', '0'])
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        with open('/proc/self/mountinfo') as f:
            self.assertEqual([line for line in f if self.btrfs.mountpoint in line],
                             host_before)
        self.assertFalse(os.path.exists(os.path.join(volume, 'new')))
        self.assertEqual(self.snapshots_on_disk(volume), [])
        btrfsutil.delete_subvolume(inner, recursive=True)

        # a failing COMMAND aborts as without --in-place
        result = self.vssctl('create', '--persistent', '--in-place', volume, '--', 'false')
        self.assertExit(result, 4)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])

    def test_in_place_refuses_a_path_replaced_after_the_snapshot(self):
        volume = self.subvolume('data', {'table': b'rows'})
        moved = volume + '-moved'
        self.subvolumes.append(moved)

        def thaw(writer, event):
            os.rename(volume, moved)
            subprocess.run(['btrfs', '-q', 'subvolume', 'create', volume], check=True)
            writer.ack(event.serial)

        self.writer('db', options={'paths': [volume]}, script={'Thaw': thaw})
        marker = os.path.join(self.state_dir, 'ran')
        result = self.vssctl('create', '--in-place', volume, '--', 'touch', marker)
        self.assertExit(result, 4)
        self.assertIn(f'{volume} is no longer the subvolume that was snapshotted', result.stderr)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(self.snapshots_on_disk(moved), [])
        self.assertEqual(self.records(), [])

    def test_in_place_needs_the_subvolumes_between_nested_paths(self):
        # data/middle is a subvolume of its own, not in the set: in the
        # snapshot of data it is an empty directory, so data/middle/inner
        # cannot be reached there; COMMAND's namespace says so, and the
        # backup is aborted before COMMAND runs
        volume = self.subvolume('data')
        middle = os.path.join(volume, 'middle')
        inner = os.path.join(middle, 'inner')
        for path in (middle, inner):
            subprocess.run(['btrfs', '-q', 'subvolume', 'create', path], check=True)
        self.subvolumes[-1:-1] = [inner, middle]
        marker = os.path.join(self.state_dir, 'ran')
        result = self.vssctl('create', '--in-place', volume, inner, '--', 'touch', marker)
        self.assertExit(result, 4)
        self.assertIn(f'--in-place: {inner} is not in the snapshot of {volume}: add the '
                      'subvolumes between them to the set', result.stderr)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.snapshots_on_disk(inner), [])

        # with it, all three are in place
        result = self.vssctl('create', '--in-place', inner, volume, middle, '--', 'sh', '-c',
                             'grep -c " %s" /proc/self/mountinfo' % volume)
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, '3\n')


class SnapshotCommandTest(VssctlTestCase):
    """vssctl snapshot: CreateSnapshotSet (DESIGN.md §4b)."""

    def test_prints_the_set_id_and_the_snapshot_paths(self):
        volumes = [self.subvolume('a', {'table': b'a rows'}), self.subvolume('b')]
        writer = self.writer('db', options={'paths': [volumes[0]]})
        parent = os.path.dirname(volumes[0])
        result = self.vssctl('snapshot', '--description', 'before the upgrade',
                             os.path.basename(volumes[1]), volumes[0], cwd=parent)
        self.assertExit(result, 0)
        set_id, *snapshots = result.stdout.splitlines()
        self.assertRegex(set_id, r'^[0-9a-f-]{36}$')
        # in the order of the PATH arguments
        for snapshot, volume in zip(snapshots, [volumes[1], volumes[0]], strict=True):
            self.assertReadOnlySnapshotOf(snapshot, volume)
        with open(os.path.join(snapshots[1], 'table'), 'rb') as f:
            self.assertEqual(f.read(), b'a rows')
        # the writer was frozen around it, in one call
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        # kept, with the description
        listed = {props['SnapshotPath']: props for props in self.listed_snapshots().values()}
        self.assertEqual(sorted(listed), sorted(snapshots))
        for props in listed.values():
            self.assertEqual(props['SnapshotSetId'], set_id)
            self.assertEqual(props['Context'], 'persistent')
            self.assertEqual(props['Description'], 'before the upgrade')
        result = self.vssctl('list-snapshots', '--json')
        self.assertEqual({s['description'] for s in json.loads(result.stdout)['snapshots']},
                         {'before the upgrade'})
        result = self.vssctl('list-snapshots')
        self.assertTrue(all(row.endswith('  before the upgrade')
                            for row in result.stdout.splitlines()[1:]), result)
        self.assertExit(self.vssctl('delete', set_id), 0)
        self.assertEqual(self.snapshots_on_disk(volumes[0]), [])

    def test_no_writers_and_json(self):
        volume = self.subvolume('data')
        writer = self.writer('left alone')
        result = self.vssctl('snapshot', '--no-writers', '--json', volume)
        self.assertExit(result, 0)
        output = json.loads(result.stdout)
        [snapshot] = output['snapshots']
        self.assertEqual(snapshot['snapshot_set_id'], output['snapshot_set_id'])
        self.assertEqual(snapshot['source_path'], volume)
        self.assertEqual(snapshot['description'], '')
        self.assertReadOnlySnapshotOf(snapshot['snapshot_path'], volume)
        spin(0.3)
        self.assertEqual(writer.names(), [])

    def test_refused_input_exits_1_and_creates_nothing(self):
        writer = self.writer('w')
        volume = self.subvolume('data')
        plain = os.path.join(volume, 'plain-directory')
        os.mkdir(plain)
        result = self.vssctl('snapshot', volume, plain)
        self.assertExit(result, 1)
        self.assertIn('VolumeNotSupported', result.stderr)
        self.assertIn(plain, result.stderr)
        self.assertEqual(result.stdout, '')
        result = self.vssctl('snapshot', '--description', 'x' * 257, volume)
        self.assertExit(result, 1)
        self.assertIn('InvalidArgument', result.stderr)
        self.assertIn('description', result.stderr)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        self.assertEqual(writer.names(), [])

    def test_not_authorized_exits_3(self):
        volume = self.subvolume('data')
        result = self.vssctl('snapshot', volume, user=NOBODY_UID)
        self.assertExit(result, 3)
        self.assertIn('NotAuthorized', result.stderr)
        self.assertEqual(self.snapshots_on_disk(volume), [])


class SnapshotsTest(VssctlTestCase):
    def create(self, volume):
        result = self.vssctl('create', '--persistent', '--json', volume)
        self.assertExit(result, 0)
        return json.loads(result.stdout)

    def test_list_snapshots_and_delete(self):
        volumes = [self.subvolume('a'), self.subvolume('b')]
        before = time.time()
        created = [self.create(volume) for volume in volumes]
        set_ids = [c['snapshot_set_id'] for c in created]

        result = self.vssctl('list-snapshots', '--json')
        self.assertExit(result, 0)
        snapshots = json.loads(result.stdout)['snapshots']
        # oldest first
        self.assertEqual([s['snapshot_set_id'] for s in snapshots], set_ids)
        self.assertEqual([s['source_path'] for s in snapshots], volumes)
        for snapshot, made in zip(snapshots, created):
            self.assertEqual(snapshot, made['snapshots'][0])
            self.assertEqual(snapshot['provider'], 'btrfs')
            when = datetime.datetime.fromisoformat(snapshot['creation_time'])
            self.assertAlmostEqual(when.timestamp(), before, delta=60)
            self.assertAlmostEqual(snapshot['creation_time_usec'] / 1e6, when.timestamp(),
                                   delta=1e-5)
            self.assertIn(snapshot['object_path'], self.listed_snapshots())

        result = self.vssctl('list-snapshots', '--ids')
        self.assertExit(result, 0)
        self.assertEqual(result.stdout.splitlines(), set_ids)

        result = self.vssctl('list-snapshots')
        self.assertExit(result, 0)
        header, *rows = result.stdout.splitlines()
        self.assertRegex(header, r'^SET ID +SNAPSHOT ID +CREATED +CONTEXT +SOURCE +SNAPSHOT PATH'
                                 r' +DESCRIPTION$')
        self.assertEqual([row.split()[0] for row in rows], set_ids)
        self.assertEqual([row.split()[3] for row in rows], ['persistent'] * 2)
        self.assertEqual([row.split()[5] for row in rows],
                         [s['snapshot_path'] for s in snapshots])

        result = self.vssctl('delete', set_ids[0])
        self.assertExit(result, 0)
        self.assertEqual(self.snapshots_on_disk(volumes[0]), [])
        self.assertEqual(len(self.snapshots_on_disk(volumes[1])), 1)
        result = self.vssctl('list-snapshots', '--ids')
        self.assertEqual(result.stdout.splitlines(), set_ids[1:])

        # gone already: vssd says so
        result = self.vssctl('delete', set_ids[0])
        self.assertExit(result, 1)
        self.assertIn('ObjectNotFound', result.stderr)

    def test_no_snapshots(self):
        result = self.vssctl('list-snapshots')
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, 'No snapshots.\n')
        self.assertEqual(json.loads(self.vssctl('list-snapshots', '--json').stdout),
                         {'snapshots': []})
        self.assertEqual(self.vssctl('list-snapshots', '--ids').stdout, '')


class UsageTest(VssctlTestCase):
    def test_bad_usage_exits_2(self):
        cases = [
            [],
            ['bogus'],
            ['--bogus'],
            ['list-writers', '--persistent'],
            ['list-writers', 'extra'],
            ['list-snapshots', '--ids', '--json'],
            ['create'],
            ['create', '--persistent'],
            ['create', '/tmp'],
            ['create', '--json', '/tmp', '--', 'true'],
            ['create', '--persistent', '/tmp', '--'],
            ['create', '--no-writers', '--persistent', '/tmp'],
            ['create', '--in-place', '--persistent', '/tmp'],
            ['create', '/tmp', '/srv', '--', 'echo', '{}'],
            ['snapshot'],
            ['snapshot', '--persistent', '/tmp'],
            ['snapshot', '--description'],
            ['writers', '--ids'],
            ['delete'],
            ['delete', 'not-a-set-id'],
            ['monitor', 'extra'],
            ['help', 'bogus'],
        ]
        for args in cases:
            with self.subTest(args=args):
                result = self.vssctl(*args)
                self.assertExit(result, 2)
                self.assertEqual(result.stdout, '')
                self.assertRegex(result.stderr, r"^vssctl: .*\nTry 'vssctl.*--help'")

    def test_help_and_version(self):
        result = self.vssctl('--help')
        self.assertExit(result, 0)
        for command in ('list-writers', 'list-snapshots', 'create', 'snapshot', 'delete',
                        'monitor'):
            self.assertIn(command, result.stdout)
        self.assertIn('Exit status', result.stdout)
        result = self.vssctl('create', '--help')
        self.assertExit(result, 0)
        self.assertIn('vssctl create [OPTION…] PATH… [-- COMMAND [ARG…]]', result.stdout)
        self.assertIn('--persistent', result.stdout)
        self.assertIn('VSS_SNAPSHOT_PATH', result.stdout)
        self.assertEqual(self.vssctl('help', 'create').stdout, result.stdout)
        result = self.vssctl('--version')
        self.assertExit(result, 0)
        self.assertRegex(result.stdout, r'^vssctl \d+\.\d+')

    def test_unreachable_service_exits_3(self):
        self.assertEqual(self.vssd.stop(), 0)
        for args in (['list-writers'], ['list-snapshots', '--json'], ['monitor'],
                     ['create', '--persistent', '/tmp'], ['snapshot', '/tmp']):
            with self.subTest(args=args):
                result = self.vssctl(*args)
                self.assertExit(result, 3)
                self.assertIn('cannot reach vssd', result.stderr)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS='unix:path=/nonexistent/bus')
        result = self.vssctl('list-writers', env=env)
        self.assertExit(result, 3)
        self.assertIn('system bus', result.stderr)

    def test_not_authorized_exits_3(self):
        # the mock polkitd allows nothing, and only root needs no polkit answer
        volume = self.subvolume('data')
        result = self.vssctl('create', '--persistent', volume, user=NOBODY_UID)
        self.assertExit(result, 3)
        self.assertIn('NotAuthorized', result.stderr)
        # listing is open to all
        result = self.vssctl('list-writers', '--json', user=NOBODY_UID)
        self.assertExit(result, 0)


class MonitorTest(VssctlTestCase):
    def test_writers_coming_and_going(self):
        early = self.writer('early')
        monitor = self.monitor()
        monitor.wait_for(rf'^{TIMESTAMP} writer-present Writer/\d+ name="early" state=stable '
                         r'class_id=\S+$')
        late = self.writer('late writer')
        short = late.path[len('/org/freedesktop/Vss1/'):]
        monitor.wait_for(rf'^{TIMESTAMP} writer-added {short} name="late writer" state=stable '
                         r'class_id=\S+$')
        late.close()
        monitor.wait_for(rf'^{TIMESTAMP} writer-removed {short} name="late writer"$')
        self.assertFalse(any('early' in line for line in monitor.received
                             if 'writer-removed' in line))
        self.assertEqual(monitor.stop(), 0)
        self.assertTrue(early.prop('Name'))

    def test_json_lines_for_a_backup(self):
        writer = self.writer('db')
        volume = self.subvolume('data')
        monitor = self.monitor('--json')
        monitor.wait_for(r'"event":"writer-present"')
        result = self.vssctl('create', '--persistent', volume)
        self.assertExit(result, 0)
        monitor.wait_for(r'"event":"snapshot-added"')
        monitor.wait_for(r'"event":"backup-removed"')
        events = [json.loads(line) for line in monitor.received]
        for event in events:
            self.assertRegex(event['time'], f'^{TIMESTAMP}$')
        names = [e['event'] for e in events]
        self.assertEqual(names[0], 'writer-present')
        self.assertEqual(events[0]['name'], 'db')
        self.assertEqual(events[0]['object_path'], writer.path)
        self.assertIn('backup-added', names)
        states = [e['state'] for e in events if e['event'] == 'backup-changed']
        self.assertIn('snapshot-created', states)
        self.assertEqual(states[-1], 'completed')
        # the writer's way through the backup shows as its state changes
        writer_states = [e['state'] for e in events if e['event'] == 'writer-changed']
        self.assertIn('waiting-for-thaw', writer_states)
        [added] = [e for e in events if e['event'] == 'snapshot-added']
        self.assertEqual(added['snapshot_path'], result.stdout.strip())
        self.assertEqual(added['source_path'], volume)
        self.assertEqual(added['context'], 'persistent')

        set_id = added['snapshot_set_id']
        self.assertExit(self.vssctl('delete', set_id), 0)
        line = monitor.wait_for(r'"event":"snapshot-removed"')
        self.assertEqual(json.loads(line)['snapshot_set_id'], set_id)
        self.assertEqual(monitor.stop(signal.SIGINT), 0)

    def test_service_restart(self):
        self.writer('before')
        monitor = self.monitor()
        monitor.wait_for(r'writer-present .* name="before"')
        self.assertEqual(self.vssd.stop(), 0)
        monitor.wait_for(rf'^{TIMESTAMP} service-stopped$')
        # its writers went with it, though it sent no InterfacesRemoved
        monitor.wait_for(r'writer-removed .* name="before"')
        self.vssd.start()
        monitor.wait_for(rf'^{TIMESTAMP} service-started$')
        self.writer('after restart')
        monitor.wait_for(r'writer-added .* name="after restart"')
        self.assertEqual(monitor.stop(), 0)


class CompletionTest(VssctlTestCase):
    def complete(self, *words):
        """COMPREPLY for the command line @words (the last one being completed)."""
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  '_vssctl vssctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=os.path.dirname(VSSCTL) + ':' + os.environ['PATH'])
        proc = subprocess.run(['bash', '-c', script, 'bash', COMPLETION, 'vssctl', *words],
                              capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [line for line in proc.stdout.splitlines() if line]

    def test_completion(self):
        self.assertEqual(self.complete('li'), ['list-writers', 'list-snapshots'])
        self.assertEqual(self.complete('--v'), ['--version'])
        self.assertEqual(sorted(self.complete('list-snapshots', '--')),
                         ['--help', '--ids', '--json'])
        self.assertIn('--persistent', self.complete('create', '--p'))
        self.assertEqual(self.complete('create', '--i'), ['--in-place'])
        self.assertEqual(self.complete('help', 'mon'), ['monitor'])
        self.assertEqual(sorted(self.complete('snapshot', '--')),
                         ['--description', '--help', '--json', '--no-writers'])
        self.assertEqual(sorted(self.complete('writers', '--')),
                         ['--help', '--json', '--metadata'])
        self.assertEqual(self.complete('snapshot', '--description', ''), [])

        volume = self.subvolume('data')
        os.mkdir(os.path.join(volume, 'subdir'))
        self.assertEqual(self.complete('create', '--persistent', volume + '/s'),
                         [volume + '/subdir'])
        self.assertEqual(self.complete('snapshot', volume + '/s'), [volume + '/subdir'])

        backup = self.requester()
        set_id = self.backup_until_prepared(backup, [volume], context='persistent')
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        self.assertEqual(self.complete('delete', ''), [set_id])
        self.assertEqual(self.complete('delete', set_id[:4]), [set_id])


if __name__ == '__main__':
    unittest.main()
