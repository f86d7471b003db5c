#!/usr/bin/python3
"""The backup tools people use, over vss snapshots (issues 16 and 17):
restic and borg with `vssctl create --in-place` as root, while a writer
keeps an invariant over two subvolumes under load; restic's second run
reading only what changed; a failing backup that leaves nothing; and tar,
rsync, restic and borg run by a user who is not root, through the
descriptors that `vssctl create` hands COMMAND (docs/design.md §6a).

Every restore goes into an empty directory and is compared byte for byte
with a snapshot kept for the purpose (--persistent)."""

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import dbus

from test_vssctl import FULL_CYCLE, TestUser, VssctlTestCase
from vsstest import SNAPSHOT_IFACE

TOTAL = 1000  # what the ledger holds, over both subvolumes


def tree(root):
    """{relative path: (kind, mode, uid, gid, content or target)} below @root."""
    entries = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(st.st_mode):
                value = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    value = (f.read(), st.st_mtime_ns)
            else:
                value = None
            entries[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                            st.st_gid, value)
    return entries


def restic_summary(output):
    """(new, changed, unmodified) of restic's 'Files:' line."""
    match = re.search(r'Files:\s+(\d+) new,\s+(\d+) changed,\s+(\d+) unmodified', output)
    if match is None:
        raise AssertionError(f'no summary in restic output:\n{output}')
    return tuple(int(n) for n in match.groups())


class Ledger:
    """A writer's data under load: a token of TOTAL units moved between
    a/ledger and b/ledger by a thread, one file after the other (so the
    invariant — same serial, sum TOTAL — is broken in between), with more
    files rewritten on the way. Freeze waits for the transfer in flight and
    holds the thread; Thaw lets it go."""

    def __init__(self, a, b):
        self.paths = [os.path.join(a, 'ledger'), os.path.join(b, 'ledger')]
        self.dirs = [a, b]
        self.lock = threading.Lock()
        self.running = True
        self.transfers = 0
        self.frozen_at = []
        self.thawed_at = []
        self.balances = [TOTAL, 0]
        self._write(0)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, serial):
        for path, balance in zip(self.paths, self.balances):
            with open(path, 'w') as f:
                f.write(f'{serial} {balance}\n')
            # the load: more of the writer's files change with each transfer
            with open(os.path.join(os.path.dirname(path), f'journal-{serial % 8}'), 'w') as f:
                f.write(f'{serial}\n' * 64)

    def _run(self):
        serial = 0
        while self.running:
            with self.lock:
                serial += 1
                amount = serial % 7 + 1
                source = serial % 2
                amount = min(amount, self.balances[source])
                self.balances[source] -= amount
                self.balances[1 - source] += amount
                self._write(serial)
                self.transfers += 1
            time.sleep(0.0005)

    def freeze(self, writer, event):
        self.lock.acquire()
        self.frozen_at.append(time.time())
        writer.ack(event.serial)

    def thaw(self, writer, event):
        self.thawed_at.append(time.time())
        self.lock.release()
        writer.ack(event.serial)

    def abort(self, writer, event):
        if self.lock.locked() and len(self.frozen_at) > len(self.thawed_at):
            self.thawed_at.append(time.time())
            self.lock.release()
        writer.ack(event.serial)

    def stop(self):
        self.running = False
        self.thread.join(10)

    @staticmethod
    def check(a, b):
        """The invariant, in the ledger files of @a and @b."""
        with open(os.path.join(a, 'ledger')) as f:
            serial_a, balance_a = map(int, f.read().split())
        with open(os.path.join(b, 'ledger')) as f:
            serial_b, balance_b = map(int, f.read().split())
        return serial_a == serial_b and balance_a + balance_b == TOTAL, (serial_a, serial_b)


class BackupToolsTestCase(VssctlTestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ('restic', 'borg', 'tar', 'rsync'):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f'{tool} is missing (scripts/deps.sh installs it)')
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='tools-', dir=self.btrfs.path())
        os.chmod(self.work, 0o755)
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)

    def tool_env(self, home, **extra):
        """The environment of restic and borg, with their repositories, caches
        and keys in @home. Without the AddressSanitizer runtime that CI's
        ASan stage preloads into the tests: vssctl is built with it, the
        backup tools are not ours to check (rsync leaks at exit, and the
        preloaded runtime would abort it)."""
        environ = {k: v for k, v in os.environ.items() if k != 'LD_PRELOAD'}
        return dict(environ, HOME=home,
                    RESTIC_REPOSITORY=os.path.join(home, 'restic'),
                    RESTIC_PASSWORD='vss test', RESTIC_CACHE_DIR=os.path.join(home, 'cache'),
                    BORG_REPO=os.path.join(home, 'borg'), BORG_BASE_DIR=home,
                    BORG_PASSPHRASE='', BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK='yes',
                    BORG_RELOCATED_REPO_ACCESS_IS_OK='yes', **extra)

    def run_tool(self, *argv, env, cwd=None, user=None, check=True):
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=120, **(user.process_args() if user else {}))
        if check and proc.returncode != 0:
            raise AssertionError(f'{argv} exited with {proc.returncode}:\n{proc.stdout}\n'
                                 f'{proc.stderr}')
        return proc

    def empty_dir(self, name, owner=None):
        path = os.path.join(self.work, name)
        os.mkdir(path)
        if owner is not None:
            os.chown(path, owner.uid, owner.gid)
        return path

    def kept_snapshots(self):
        """{source path: (snapshot path, creation time in s)} of the kept sets."""
        admin = self.client()
        return {props['SourcePath']: (props['SnapshotPath'], props['CreationTime'] / 1e6)
                for interfaces in admin.managed_objects().values()
                for props in [interfaces.get(SNAPSHOT_IFACE)] if props is not None}

    def assertSameTree(self, restored, snapshot, mtime_ns=0):
        """Same names, kinds, modes, owners, contents and link targets; the
        same modification times of files, to within @mtime_ns."""
        expected = tree(snapshot)
        actual = tree(restored)
        self.assertEqual(sorted(actual), sorted(expected))
        for rel, entry in expected.items():
            got = actual[rel]
            if mtime_ns and isinstance(entry[4], tuple):
                self.assertLessEqual(abs(got[4][1] - entry[4][1]), mtime_ns, rel)
                got = got[:4] + ((got[4][0], entry[4][1]),)
            self.assertEqual(got, entry, rel)

    def mountinfo(self):
        """The host's mounts on the test's filesystem (other tests on the
        machine mount and unmount theirs meanwhile)."""
        with open('/proc/self/mountinfo') as f:
            return [line for line in f if self.btrfs.mountpoint in line]


class InPlaceTest(BackupToolsTestCase):
    """As root, with --in-place: the tools see the original paths."""

    def backup_under_load(self, command):
        """Runs `vssctl create --persistent --in-place a b -- COMMAND` while
        the ledger moves; returns (a, b, result, ledger, writer)."""
        a = self.subvolume('a')
        b = self.subvolume('b')
        for volume in (a, b):
            for i in range(40):
                with open(os.path.join(volume, f'file-{i}'), 'wb') as f:
                    f.write(os.urandom(1000 + i * 97))
        ledger = Ledger(a, b)
        self.addCleanup(ledger.stop)
        writer = self.writer('ledger', options={'paths': [a, b]},
                             script={'Freeze': ledger.freeze, 'Thaw': ledger.thaw,
                                     'Abort': ledger.abort})
        host = self.mountinfo()
        # the ledger is busy before the snapshot
        deadline = time.monotonic() + 10
        while ledger.transfers < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        result = self.vssctl('create', '--persistent', '--in-place', a, b, '--',
                             *[arg.replace('@A@', a).replace('@B@', b) for arg in command],
                             env=self.env, cwd=self.work, timeout=120)
        ledger.stop()
        # nothing of COMMAND's namespace reached the host's
        self.assertEqual(self.mountinfo(), host)
        return a, b, result, ledger, writer

    def assertFrozenAroundTheSnapshot(self, a, b, ledger, writer):
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), FULL_CYCLE)
        kept = self.kept_snapshots()
        self.assertEqual(sorted(kept), [a, b])
        [frozen], [thawed] = ledger.frozen_at, ledger.thawed_at
        for snapshot, created in kept.values():
            self.assertLessEqual(frozen, created)
            self.assertLessEqual(created, thawed)
        # and it went on moving while the backup tool read the snapshots
        self.assertGreater(ledger.transfers, 50)
        return kept[a][0], kept[b][0]

    def assertRestored(self, restored_a, restored_b, snapshot_a, snapshot_b):
        self.assertSameTree(restored_a, snapshot_a)
        self.assertSameTree(restored_b, snapshot_b)
        consistent, serials = Ledger.check(restored_a, restored_b)
        self.assertTrue(consistent, f'the ledger is torn in the restore: {serials}')

    def test_restic_under_load(self):
        self.env = self.tool_env(self.empty_dir('home'))
        self.run_tool('restic', 'init', env=self.env)
        a, b, result, ledger, writer = self.backup_under_load(
            ['restic', 'backup', '@A@', '@B@'])
        self.assertExit(result, 0)
        # restic saw the original paths
        snapshots = json.loads(self.run_tool('restic', 'snapshots', '--json',
                                             env=self.env).stdout)
        self.assertEqual([s['paths'] for s in snapshots], [[a, b]])
        snapshot_a, snapshot_b = self.assertFrozenAroundTheSnapshot(a, b, ledger, writer)

        target = self.empty_dir('restore')
        self.run_tool('restic', 'restore', 'latest', '--target', target, env=self.env)
        # restored to the original paths, below the target
        self.assertEqual(os.listdir(target), [a.split('/')[1]])
        self.assertRestored(target + a, target + b, snapshot_a, snapshot_b)

    def test_borg_under_load(self):
        self.env = self.tool_env(self.empty_dir('home'))
        self.run_tool('borg', 'init', '--encryption', 'none', env=self.env)
        a, b, result, ledger, writer = self.backup_under_load(
            ['borg', 'create', '::first', '@A@', '@B@'])
        self.assertExit(result, 0)
        snapshot_a, snapshot_b = self.assertFrozenAroundTheSnapshot(a, b, ledger, writer)

        target = self.empty_dir('restore')
        self.run_tool('borg', 'extract', '::first', env=self.env, cwd=target)
        self.assertRestored(target + a, target + b, snapshot_a, snapshot_b)

    def test_second_backups_read_only_what_changed(self):
        env = self.env = self.tool_env(self.empty_dir('home'))
        volume = self.subvolume('data')
        for i in range(50):
            with open(os.path.join(volume, f'file-{i:02}'), 'w') as f:
                f.write(f'file {i}\n' * 100)
        self.run_tool('restic', 'init', env=env)
        self.run_tool('borg', 'init', '--encryption', 'none', env=env)
        # borg trusts no file cache entry of the newest file it saw (its
        # change time may be too coarse to tell): this one, not a data file
        time.sleep(0.05)
        with open(os.path.join(volume, 'newest'), 'w') as f:
            f.write('marker\n')

        def backup(name):
            return self.vssctl('create', '--in-place', volume, '--', 'sh', '-c',
                               'restic backup {} && '
                               'borg create --list --filter=AME ::%s {}' % name,
                               env=env, cwd=self.work, timeout=120)

        first = backup('one')
        self.assertExit(first, 0)
        self.assertIn('no parent snapshot found', first.stdout)
        self.assertEqual(restic_summary(first.stdout), (51, 0, 0))

        time.sleep(0.05)
        with open(os.path.join(volume, 'file-07'), 'a') as f:
            f.write('changed\n')
        second = backup('two')
        self.assertExit(second, 0)
        # restic found its parent: the same path, the same inodes
        self.assertNotIn('no parent snapshot found', second.stdout)
        self.assertIn('using parent snapshot', second.stdout)
        self.assertEqual(restic_summary(second.stdout), (0, 1, 50))
        # borg read the changed file alone (its file cache is keyed on the path)
        listed = [line.split(maxsplit=1) for line in second.stderr.splitlines()
                  if line[:2] in ('A ', 'M ', 'E ')]
        self.assertIn(['M', os.path.join(volume, 'file-07')], listed)
        self.assertEqual([path for _, path in listed if 'file-' in path],
                         [os.path.join(volume, 'file-07')])

        # through the snapshot's own path, every backup is a first one
        result = self.vssctl('create', volume, '--', 'restic', 'backup', '{}', env=env,
                             cwd=self.work, timeout=120)
        self.assertExit(result, 0)
        self.assertIn('no parent snapshot found', result.stdout)
        self.assertEqual(restic_summary(result.stdout), (51, 0, 0))

    def test_failing_backup_leaves_nothing(self):
        env = self.env = self.tool_env(self.empty_dir('home'))
        self.run_tool('restic', 'init', env=env)
        a = self.subvolume('a', {'f': b'a'})
        b = self.subvolume('b', {'f': b'b'})
        writer = self.writer('w', options={'paths': [a]})
        host = self.mountinfo()
        for command in (['env', 'RESTIC_PASSWORD=wrong', 'restic', 'backup', a, b],
                        ['borg', 'create', '::never', a, b]):
            with self.subTest(command=command[0]):
                result = self.vssctl('create', '--persistent', '--in-place', a, b, '--',
                                     *command, env=env, cwd=self.work, timeout=120)
                self.assertExit(result, 4)
                self.assertIn('exited with status', result.stderr)
                self.assertIn('no snapshot was kept', result.stderr)
                writer.wait_for('BackupShutdown', count=1 + (command[0] == 'borg'))
                self.assertEqual(writer.count('PostSnapshot'), writer.count('BackupShutdown'))
                self.assertNotIn('BackupComplete', writer.names())
                self.assertEqual(self.snapshots_on_disk(a), [])
                self.assertEqual(self.snapshots_on_disk(b), [])
                self.assertEqual(self.records(), [])
                self.assertEqual(self.kept_snapshots(), {})
                self.assertEqual(self.mountinfo(), host)
        self.assertEqual(self.run_tool('restic', 'snapshots', '--json', env=env).stdout.strip(),
                         '[]')
        self.assertFalse(os.path.exists(env['BORG_REPO']))


class UserTest(BackupToolsTestCase):
    """A user who is not root: COMMAND reads each snapshot at /dev/fd/N."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = TestUser()

    @classmethod
    def tearDownClass(cls):
        cls.user.remove()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.polkitd_mock.SetAllowed(dbus.Array(['org.freedesktop.vss1.backup'], signature='s'))
        self.home = self.empty_dir('home', owner=self.user)
        self.env = self.tool_env(self.home)
        self.volume = self.subvolume('data')
        os.chown(self.volume, self.user.uid, self.user.gid)
        os.makedirs(os.path.join(self.volume, 'notes', 'old'))
        for i, name in enumerate(['notes/a.txt', 'notes/old/b.txt', 'c.bin']):
            with open(os.path.join(self.volume, name), 'wb') as f:
                f.write(os.urandom(500 * (i + 1)))
        os.symlink('notes/a.txt', os.path.join(self.volume, 'link'))
        for directory, dirs, files in os.walk(self.volume):
            for name in dirs + files:
                os.lchown(os.path.join(directory, name), self.user.uid, self.user.gid)

    def as_user(self, *command, persistent=True):
        """`vssctl create [--persistent] VOLUME -- COMMAND` as the user;
        returns the result and the kept snapshot's path."""
        options = ['--persistent'] if persistent else []
        result = self.vssctl('create', *options, self.volume, '--', *command, env=self.env,
                             cwd=self.home, timeout=120, **self.user.process_args())
        self.assertExit(result, 0)
        snapshot = result.stdout.splitlines()[-1] if persistent else None
        return result, snapshot

    def test_tar_and_rsync(self):
        # tar enters the directory (-C); rsync copies its content (trailing
        # slash); both given /dev/fd/N itself would archive the symbolic
        # link. (The POSIX format keeps the nanoseconds of the times.)
        result, snapshot = self.as_user(
            'sh', '-c', 'tar --format=posix -C {} -cf "$HOME/data.tar" . && '
            'rsync -a {}/ "$HOME/copy/" && echo {}')
        self.assertEqual(result.stdout.splitlines()[0], '/dev/fd/3')
        self.assertSameTree(os.path.join(self.home, 'copy'), snapshot)
        extracted = self.empty_dir('extracted')
        self.run_tool('tar', '-C', extracted, '-xpf', os.path.join(self.home, 'data.tar'),
                      env=self.env)
        self.assertSameTree(extracted, snapshot)

    def test_restic(self):
        self.run_tool('restic', 'init', env=self.env, user=self.user)
        # restic is given ".", after cd: it records the path $PWD, /dev/fd/3,
        # the same in every run, so the second finds its parent
        command = ('sh', '-c', 'cd {} && restic backup .')
        first, _ = self.as_user(*command, persistent=False)
        self.assertIn('no parent snapshot found', first.stdout)
        with open(os.path.join(self.volume, 'notes', 'a.txt'), 'ab') as f:
            f.write(b'more')
        second, snapshot = self.as_user(*command)
        self.assertIn('using parent snapshot', second.stdout)
        self.assertEqual(restic_summary(second.stdout), (0, 1, 2))
        snapshots = json.loads(self.run_tool('restic', 'snapshots', '--json', env=self.env,
                                             user=self.user).stdout)
        self.assertEqual([s['paths'] for s in snapshots], [['/dev/fd/3']] * 2)

        target = self.empty_dir('restore', owner=self.user)
        self.run_tool('restic', 'restore', 'latest', '--target', target, env=self.env,
                      user=self.user)
        self.assertSameTree(target, snapshot)

    def test_borg(self):
        # borg create needs the path of its working directory (getcwd), and a
        # directory on vssd's detached mount has none: borg reads the
        # snapshot as tar's stream instead (the POSIX format keeps the
        # times to the microsecond through borg's float seconds)
        self.run_tool('borg', 'init', '--encryption', 'none', env=self.env, user=self.user)
        failed = self.vssctl('create', self.volume, '--', 'sh', '-c',
                             'cd {} && borg create ::never .', env=self.env, cwd=self.home,
                             timeout=120, **self.user.process_args())
        self.assertExit(failed, 4)
        self.assertIn('os.getcwd()', failed.stderr)
        _, snapshot = self.as_user(
            'sh', '-c', 'tar --format=posix -C {} -cf - . | borg import-tar ::first -')
        target = self.empty_dir('restore', owner=self.user)
        self.run_tool('borg', 'extract', '::first', env=self.env, cwd=target, user=self.user)
        self.assertSameTree(target, snapshot, mtime_ns=1000)

    def test_snapshot_path_stays_closed(self):
        # the descriptor is the only way in: it names no path (readlink says
        # "/"), and the snapshot's own path is root's
        result, snapshot = self.as_user('readlink', '{}')
        self.assertEqual(result.stdout.splitlines()[0], '/')
        self.assertTrue(snapshot.startswith(self.volume + '/.vss-snapshots/'))
        denied = self.run_tool('cat', os.path.join(snapshot, 'c.bin'), env=self.env,
                               user=self.user, check=False)
        self.assertEqual(denied.returncode, 1)
        self.assertIn('Permission denied', denied.stderr)

if __name__ == '__main__':
    unittest.main()
