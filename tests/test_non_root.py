#!/usr/bin/python3
"""Backups and writers of users who are not root (docs/design.md §6a, issue 16).

Each test class creates two unprivileged users with useradd (alice and bob,
named after the test's pid so that two runs never share them) and removes
them afterwards; their home directories lie in a subvolume of the test's
btrfs image. The programs a user runs (examples/home-backup.py and
examples/notes.py, the README's snippet) run as that user in processes of
their own; calls whose answer is the point are made from connections of the
user's uid. The mock polkitd answers as each test configures it, except in
PolkitRuleTest, where the real polkitd of Debian's polkitd package judges the
README's rule."""

import contextlib
import errno
import glob
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import unittest

import dbus

from gi.repository import GLib

import vsstest
from test_examples import EXAMPLES, GJS, PYTHON, Program
from vsstest import (MANAGER_IFACE, SANITIZER_VARIABLES, SNAPSHOT_IFACE, SRCDIR, VSS_PATH,
                     VssTestCase, iterate_until, spin, vardict)

ACTIONS = {
    'backup': 'org.freedesktop.vss1.backup',
    'register-writer': 'org.freedesktop.vss1.register-writer',
    'manage-snapshots': 'org.freedesktop.vss1.manage-snapshots',
}
# the defaults, which a writer of a user other than root may not exceed (§6a)
FREEZE_TIMEOUT_DEFAULT_MS = 60000
EVENT_TIMEOUT_DEFAULT_MS = 30000
HOME_BACKUP = os.path.join(EXAMPLES, 'home-backup.py')
NOTES = os.path.join(EXAMPLES, 'notes.py')
README = os.path.join(SRCDIR, 'README.md')
USER_PREFIX = 'vsstest'


def run(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


class UnixUser:
    """A user made with useradd for the tests, and removed with userdel."""

    def __init__(self, name, groups=()):
        self.name = name
        run('useradd', '--system', '--no-create-home', '--user-group',
            '--shell', '/usr/sbin/nologin', '--home-dir', '/nonexistent',
            *(['--groups', ','.join(groups)] if groups else []), name)
        entry = pwd.getpwnam(name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.home = None

    def set_home(self, home):
        """A fresh 0700 home directory at @home, as the passwd entry says."""
        os.mkdir(home, 0o700)
        os.chown(home, self.uid, self.gid)
        run('usermod', '--home', home, self.name)
        self.home = home
        return home

    def make(self, path, content=None, mode=None):
        """A directory (@content None) or file of this user's at @path."""
        if content is None:
            os.mkdir(path)
        else:
            with open(path, 'wb') as f:
                f.write(content)
        os.chown(path, self.uid, self.gid)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def remove(self):
        # userdel also removes the user's group and its memberships
        subprocess.run(['userdel', self.name], stderr=subprocess.DEVNULL)


def remove_stale_users():
    """Users of test runs that were killed before they could remove them."""
    for entry in pwd.getpwall():
        match = re.fullmatch(rf'{USER_PREFIX}(\d+)[a-z]', entry.pw_name)
        if match and not os.path.exists(f'/proc/{match.group(1)}'):
            subprocess.run(['userdel', entry.pw_name], stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def as_user(user):
    """This process's file access as @user's, for a check through a descriptor
    it holds: the effective (file system) uid and gid, and no other groups."""
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(user.gid)
    os.seteuid(user.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


def tree(top):
    """{relative path: ('d', mode) | ('f', mode, bytes) | ('l', target)} of
    everything below @top, read as the caller may (root here)."""
    entries = {'.': ('d', os.lstat(top).st_mode & 0o7777)}
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, top)
            st = os.lstat(path)
            if os.path.islink(path):
                entries[rel] = ('l', os.readlink(path))
            elif os.path.isdir(path):
                entries[rel] = ('d', st.st_mode & 0o7777)
            else:
                with open(path, 'rb') as f:
                    entries[rel] = ('f', st.st_mode & 0o7777, f.read())
    return entries


def tar_tree(archive):
    """The same for the members of a tar file (its names start with ./)."""
    entries = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            rel = os.path.normpath(member.name)
            if member.isdir():
                entries[rel] = ('d', member.mode)
            elif member.issym():
                entries[rel] = ('l', member.linkname)
            else:
                entries[rel] = ('f', member.mode, tar.extractfile(member).read())
    return entries


def notes_in(entries, prefix='notes'):
    """(SQLite's integrity check, the index's rows, the sorted note files) of
    the notes directory @prefix in @entries (a tree); the database is read
    from a copy."""
    with tempfile.NamedTemporaryFile(suffix='.sqlite') as copy:
        copy.write(entries[f'{prefix}/index.sqlite'][2])
        copy.flush()
        db = sqlite3.connect(copy.name)
        try:
            check = db.execute('PRAGMA integrity_check').fetchone()[0]
            rows = db.execute('SELECT id, file FROM notes ORDER BY id').fetchall()
        finally:
            db.close()
    files = sorted(rel[len(prefix) + 1:] for rel in entries
                   if rel.startswith(f'{prefix}/note-'))
    return check, rows, files


class NonRootTestCase(VssTestCase):
    """alice and bob, their homes in a subvolume of their own, and a logged
    mock polkitd that allows what a test says."""

    alice_groups = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = []
        try:
            remove_stale_users()
            cls.alice = UnixUser(f'{USER_PREFIX}{os.getpid()}a', cls.alice_groups)
            cls.users.append(cls.alice)
            cls.bob = UnixUser(f'{USER_PREFIX}{os.getpid()}b')
            cls.users.append(cls.bob)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for user in cls.users:
            user.remove()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        # CheckAuthorization as the template answers it, but logged
        self.polkitd_mock.AddMethod(
            'org.freedesktop.PolicyKit1.Authority', 'CheckAuthorization',
            '(sa{sv})sa{ss}us', '(bba{ss})',
            'ret = (args[1] in self.allowed or self.allow_unknown, False, {})')
        self.allow('backup', 'register-writer')
        self.home_volume = self.subvolume('home')
        self.alice.set_home(os.path.join(self.home_volume, 'alice'))
        self.bob.set_home(os.path.join(self.home_volume, 'bob'))
        # where a user's program may write what it makes outside the snapshot
        self.outbox = tempfile.mkdtemp(prefix='outbox-', dir=self.tmpdir)
        os.chown(self.outbox, self.alice.uid, self.alice.gid)
        self.addCleanup(shutil.rmtree, self.outbox, ignore_errors=True)

    def allow(self, *actions):
        self.polkitd_mock.SetAllowed(dbus.Array([ACTIONS[a] for a in actions], signature='s'))

    def polkit_actions(self):
        return [str(args[1]) for _, args in self.polkitd_mock.GetMethodCalls('CheckAuthorization')]

    def env(self, user):
        """What a user's session would give the program, and the test bus and
        the uninstalled library."""
        env = {'HOME': user.home, 'USER': user.name, 'LOGNAME': user.name,
               'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'PYTHONDONTWRITEBYTECODE': '1',
               'PYTHONUNBUFFERED': '1', 'DBUS_SYSTEM_BUS_ADDRESS': self.address}
        for name in ('GI_TYPELIB_PATH', 'LD_LIBRARY_PATH', *SANITIZER_VARIABLES):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def run_as(self, user, argv, label):
        """@argv as @user (no other groups), in their home; a Program."""
        return Program(self, argv, f'{label} (as {user.name})', self.env(user),
                       user=user.uid, group=user.gid, extra_groups=[], cwd=user.home)

    def wait_until_no_snapshots(self, volume):
        deadline = time.monotonic() + 20
        while self.snapshots_on_disk(volume) or self.records():
            self.assertLess(time.monotonic(), deadline,
                            f'still there: {self.snapshots_on_disk(volume)}, {self.records()}')
            time.sleep(0.05)


class DesktopBackupTest(NonRootTestCase):
    """examples/home-backup.py, run by alice, with her notes writer frozen."""

    def setUp(self):
        super().setUp()
        home = self.alice.home
        self.alice.make(os.path.join(home, 'diary.txt'), b'dear diary\n', 0o600)
        self.alice.make(os.path.join(home, 'Documents'), mode=0o755)
        self.alice.make(os.path.join(home, 'Documents', 'letter.odt'), os.urandom(70000), 0o644)
        os.symlink('Documents/letter.odt', os.path.join(home, 'latest'))
        os.lchown(os.path.join(home, 'latest'), self.alice.uid, self.alice.gid)
        self.notes_dir = self.alice.make(os.path.join(home, 'notes'), mode=0o700)

    def wait_for_notes(self, count):
        deadline = time.monotonic() + 20
        while len(glob.glob(os.path.join(self.notes_dir, 'note-*.txt'))) < count:
            self.assertLess(time.monotonic(), deadline, f'no {count} notes were written')
            time.sleep(0.05)

    def test_home_backup_archives_the_files_at_the_freeze(self):
        notes = self.run_as(self.alice, [PYTHON, NOTES, self.notes_dir], 'notes writer')
        notes.wait_for_line('ready')
        self.wait_for_notes(3)
        at_freeze = {}

        def freeze(witness, event):
            # root's witness, frozen with the notes writer: once the notes
            # writer has stopped, alice's home is what the snapshot must hold
            at_freeze['count'] = int(notes.wait_for_match(r'frozen: (\d+) notes').group(1))
            at_freeze['tree'] = tree(self.alice.home)
            witness.ack(event.serial)

        def post_snapshot(witness, event):
            # the live notes move on before alice's tar runs, so an archive
            # read from the live home could not pass for the snapshot's
            self.wait_for_notes(at_freeze['count'] + 1)
            witness.ack(event.serial)

        self.writer('witness', {'paths': [self.alice.home]},
                    {'Freeze': freeze, 'PostSnapshot': post_snapshot})
        archive = os.path.join(self.outbox, 'home.tar')
        backup = self.run_as(self.alice, [PYTHON, HOME_BACKUP, archive], 'home-backup')
        # the witness answers from this process's main loop
        iterate_until(lambda: backup.process.poll() is not None, what='home-backup.py')
        self.assertEqual(backup.finish(), 0, backup.describe())
        self.assertRegex(backup.lines[0], r'^snapshot set: [0-9a-f-]{36}$')
        self.assertEqual(backup.lines[-1], f'archive: {archive}')

        self.assertGreater(at_freeze['count'], 0)
        archived = tar_tree(archive)
        # everything of alice's home, as it was while her notes writer was frozen
        self.assertEqual(sorted(archived), sorted(at_freeze['tree']))
        self.assertEqual(archived, at_freeze['tree'])
        check, rows, files = notes_in(archived)
        self.assertEqual(check, 'ok')
        count = at_freeze['count']
        self.assertEqual(rows, [(n, f'note-{n}.txt') for n in range(1, count + 1)])
        self.assertEqual(files, sorted(f'note-{n}.txt' for n in range(1, count + 1)))
        # and not as it is now
        self.assertNotEqual(tree(self.alice.home), archived)
        # the archive is alice's
        self.assertEqual(os.stat(archive).st_uid, self.alice.uid)

        # the set went with home-backup.py's connection
        self.wait_until_no_snapshots(self.home_volume)
        # polkit was asked for the notes writer and the backup; not for the
        # descriptor, which is the owner's
        self.assertEqual(self.polkit_actions(), [ACTIONS['register-writer'], ACTIONS['backup']])
        notes.wait_for_line('event: backup-shutdown')
        self.assertEqual(notes.stop(), 0, notes.describe())
        self.assertEqual(notes.events(), ['identify', 'freeze', 'thaw', 'backup-shutdown'])
        self.assertNotRegex(notes.stderr + backup.stderr, r'CRITICAL|WARNING|Traceback')

    def test_home_backup_without_the_right_to_back_up(self):
        self.allow('register-writer')
        archive = os.path.join(self.outbox, 'home.tar')
        backup = self.run_as(self.alice, [PYTHON, HOME_BACKUP, archive], 'home-backup')
        self.assertEqual(backup.finish(), 1, backup.describe())
        self.assertIn(ACTIONS['backup'], backup.stderr)
        self.assertFalse(os.path.exists(archive))
        self.assertEqual(self.snapshots_on_disk(self.home_volume), [])

    def test_home_backup_of_a_directory_it_cannot_read(self):
        self.bob.make(os.path.join(self.bob.home, 'secret'), b'bob only\n', 0o600)
        archive = os.path.join(self.outbox, 'bob.tar')
        backup = self.run_as(self.alice, [PYTHON, HOME_BACKUP, '--dir', self.bob.home, archive],
                             'home-backup')
        self.assertEqual(backup.finish(), 1, backup.describe())
        # tar said why; the set was made and went all the same
        self.assertIn('Permission denied', backup.stderr)
        self.assertIn('tar failed', backup.stderr)
        self.wait_until_no_snapshots(self.home_volume)


# run as a user: makes a set of argv[1] (context backup), and tries to read
# argv[2] (theirs) and argv[3] (another user's 0700 directory) in it
READ_AS_USER = r'''
import errno, os, sys
import gi
gi.require_version('Vss', '1.0')
from gi.repository import Vss
volume, own, other = sys.argv[1:]
client = Vss.Client.new_sync(None)
[snapshot] = client.create_snapshot_set_sync(
    [volume], Vss.SnapshotContext.BACKUP, None, Vss.CreateSnapshotSetFlags.NO_WRITERS, None)
fd = snapshot.open_sync(None)

def attempt(what, call):
    try:
        call()
        print(what, 'ok')
    except OSError as e:
        print(what, errno.errorcode[e.errno])

attempt('own file', lambda: os.close(os.open(f'{own}/diary.txt', os.O_RDONLY, dir_fd=fd)))
attempt('own file through /proc', lambda: open(f'/proc/self/fd/{fd}/{own}/diary.txt').close())
attempt('write', lambda: os.open(f'{own}/new', os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
attempt('other directory', lambda: os.listdir(os.open(other, os.O_RDONLY, dir_fd=fd)))
attempt('other file', lambda: os.open(f'{other}/secret', os.O_RDONLY, dir_fd=fd))
attempt('other through /proc', lambda: os.listdir(f'/proc/self/fd/{fd}/{other}'))
attempt('snapshot path', lambda: os.listdir(snapshot.get_snapshot_path()))
'''


class WhatAUserReadsTest(NonRootTestCase):
    """Through the descriptor a user reads what the files' own permissions let
    them read, and opens only their own sets' snapshots (docs/design.md §6a)."""

    def setUp(self):
        super().setUp()
        self.alice.make(os.path.join(self.alice.home, 'diary.txt'), b'dear diary\n', 0o600)
        self.bob.make(os.path.join(self.bob.home, 'secret'), b'bob only\n', 0o600)

    def test_another_users_private_directory_stays_closed(self):
        reader = self.run_as(self.alice, [PYTHON, '-c', READ_AS_USER, self.home_volume,
                                          'alice', 'bob'], 'reader')
        self.assertEqual(reader.finish(), 0, reader.describe())
        self.assertEqual(reader.lines, [
            'own file ok',
            'own file through /proc ok',
            'write EROFS',
            'other directory EACCES',
            'other file EACCES',
            'other through /proc EACCES',
            'snapshot path EACCES',
        ])
        self.wait_until_no_snapshots(self.home_volume)

    def snapshot_of(self, client, set_id):
        [path] = [p for p, ifaces in client.managed_objects().items()
                  if SNAPSHOT_IFACE in ifaces
                  and ifaces[SNAPSHOT_IFACE]['SnapshotSetId'] == set_id]
        return path

    def assertOpenRefused(self, client, snapshot):
        error = self.assertCallFails('NotAuthorized', client.open_snapshot, snapshot)
        self.assertIn(ACTIONS['manage-snapshots'], error.message)

    def test_open_only_of_ones_own_sets(self):
        alice = self.client(uid=self.alice.uid)
        sets = {
            # bob's (context backup: it lives as long as his connection)
            'bob': self.client(uid=self.bob.uid).create_snapshot_set(
                [self.home_volume], {'context': 'backup'})[0],
            'root': self.client().create_snapshot_set([self.home_volume])[0],
            # alice's own: made by CreateSnapshotSet (hers by uid) ...
            'own': alice.create_snapshot_set([self.home_volume], {'context': 'backup'})[0],
        }
        # ... by a backup she owns by uid (owner "user") ...
        by_uid = self.requester(uid=self.alice.uid, options={'owner': 'user'})
        sets['by uid'] = self.backup_until_prepared(by_uid, [self.home_volume], 'persistent')
        by_uid.DoSnapshotSet()
        by_uid.BackupComplete()
        by_uid.Release()
        # ... and by a backup one connection of hers owns: that connection's
        by_connection = self.requester(uid=self.alice.uid)
        sets['by connection'] = self.backup_until_prepared(by_connection, [self.home_volume],
                                                           'backup')
        by_connection.DoSnapshotSet()
        snapshots = {who: self.snapshot_of(alice, set_id) for who, set_id in sets.items()}

        self.polkitd_mock.ClearCalls()
        for who in ('own', 'by uid'):
            os.close(alice.open_snapshot(snapshots[who]))
        os.close(by_connection.client.open_snapshot(snapshots['by connection']))
        self.assertEqual(self.polkit_actions(), [])
        # anyone else's: polkit says no to manage-snapshots
        for who in ('bob', 'root', 'by connection'):
            with self.subTest(who):
                self.assertOpenRefused(alice, snapshots[who])
        self.assertEqual(self.polkit_actions(), [ACTIONS['manage-snapshots']] * 3)
        # nor may she delete even her own: that is manage-snapshots too (§6)
        self.assertCallFails('NotAuthorized', alice.delete_snapshot_set, sets['by uid'])

        # allowed to manage snapshots, she opens them; below the root the
        # files' own permissions still apply
        self.allow('manage-snapshots')
        fd = alice.open_snapshot(snapshots['bob'])
        try:
            self.assertEqual(os.fstat(fd).st_ino, 256)  # the root of a subvolume
            with as_user(self.alice):
                self.assertEqual(sorted(os.listdir(fd)), ['.vss-snapshots', 'alice', 'bob'])
                with self.assertRaises(PermissionError) as caught:
                    os.open('bob/secret', os.O_RDONLY, dir_fd=fd)
                self.assertEqual(caught.exception.errno, errno.EACCES)
        finally:
            os.close(fd)
        os.close(alice.open_snapshot(snapshots['root']))

        by_connection.BackupComplete()
        by_connection.Release()
        for who in ('root', 'by uid'):
            self.client().delete_snapshot_set(sets[who])

    def test_setuid_programs_of_a_snapshot_run_without_their_owners_rights(self):
        # a set-user-ID program of root's in alice's set; the admin removes it
        # from the live subvolume afterwards (it had a hole, say): it must not
        # stay runnable with root's rights through alice's descriptor, which
        # .vss-snapshots, root's and 0700, keeps from everyone (§5)
        program = os.path.join(self.home_volume, 'old-id')
        shutil.copy('/usr/bin/id', program)
        os.chmod(program, 0o4755)
        alice = self.client(uid=self.alice.uid)
        set_id, _ = alice.create_snapshot_set([self.home_volume])
        os.unlink(program)
        runner = self.run_as(self.alice, [PYTHON, '-c', EXEC_AS_USER, set_id], 'runner')
        self.assertEqual(runner.finish(), 0, runner.describe())
        # the program ran, with alice's effective uid
        self.assertEqual(runner.lines, [str(self.alice.uid)])
        self.client().delete_snapshot_set(set_id)


# run as a user: runs old-id -u from the snapshot of their set argv[1]
EXEC_AS_USER = r"""
import subprocess, sys
import gi
gi.require_version('Vss', '1.0')
from gi.repository import Vss
client = Vss.Client.new_sync(None)
[snapshot] = [s for s in client.list_snapshots_sync(None)
              if s.get_snapshot_set_id() == sys.argv[1]]
fd = snapshot.open_sync(None)
subprocess.run([f'/proc/self/fd/{fd}/old-id', '-u'], pass_fds=[fd], check=True)
"""


class UserWriterTest(NonRootTestCase):
    """A writer registered by a user other than root (docs/design.md §6a)."""

    def setUp(self):
        super().setUp()
        home = self.alice.home
        self.notes = self.alice.make(os.path.join(home, 'notes'))
        self.alice.make(os.path.join(self.notes, 'index.sqlite'), b'')
        self.link = os.path.join(home, 'link')
        os.symlink(self.notes, self.link)
        self.bobs = os.path.join(home, 'bobs')
        os.symlink(self.bob.home, self.bobs)
        for link in (self.link, self.bobs):
            os.lchown(link, self.alice.uid, self.alice.gid)
        self.bob.make(os.path.join(self.bob.home, 'secret'), b'bob only\n', 0o600)

    def register(self, client, options):
        return client.call(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                           GLib.Variant('(sa{sv})', ('notes', vardict(options))))

    def writers(self):
        return sorted(p for p in self.client().managed_objects() if '/Writer/' in p)

    def test_refused_registrations_name_the_path_or_option(self):
        alice = self.client(uid=self.alice.uid)
        home = self.alice.home
        missing = os.path.join(home, 'missing')
        rows = [
            ('without paths', {}, 'NotAuthorized', "option 'paths'", f'uid {self.alice.uid}'),
            # the message names whose the path must be, never whose it is: vssd
            # looks as root, and that is not alice's to learn
            ("with bob's home", {'paths': [self.bob.home]}, 'NotAuthorized', self.bob.home,
             f'uid {self.alice.uid}'),
            ("with a file of bob's", {'paths': [f'{self.bob.home}/secret']}, 'NotAuthorized',
             f'{self.bob.home}/secret'),
            ("with root's subvolume", {'paths': [self.home_volume]}, 'NotAuthorized',
             self.home_volume, f'uid {self.alice.uid}'),
            ("with her own path and bob's", {'paths': [self.notes, self.bob.home]},
             'NotAuthorized', self.bob.home),
            ('with a path that does not exist', {'paths': [missing]}, 'NotAuthorized', missing),
            ('with a path through a symbolic link', {'paths': [f'{self.link}/index.sqlite']},
             'InvalidArgument', f'{self.link}/index.sqlite', 'symbolic link'),
            ('with a freeze timeout above the default',
             {'paths': [self.notes], 'freeze-timeout-ms': FREEZE_TIMEOUT_DEFAULT_MS + 1},
             'InvalidArgument', "'freeze-timeout-ms'", str(FREEZE_TIMEOUT_DEFAULT_MS)),
            ('with an event timeout above the default',
             {'paths': [self.notes], 'event-timeout-ms': EVENT_TIMEOUT_DEFAULT_MS + 1},
             'InvalidArgument', "'event-timeout-ms'", str(EVENT_TIMEOUT_DEFAULT_MS)),
        ]
        for what, options, expected, *names in rows:
            with self.subTest(what):
                error = self.assertCallFails(expected, self.register, alice, options)
                for name in names:
                    self.assertIn(name, error.message)
        self.assertEqual(self.writers(), [])

        # her own paths (a directory and a file), the timeouts at the defaults
        path = self.register(alice, {'paths': [self.notes, f'{self.notes}/index.sqlite'],
                                     'freeze-timeout-ms': FREEZE_TIMEOUT_DEFAULT_MS,
                                     'event-timeout-ms': EVENT_TIMEOUT_DEFAULT_MS})
        self.assertEqual(self.writers(), [path])
        # root's writers are as they were: no paths, long timeouts, anyone's paths
        root = self.client()
        self.register(root, {'freeze-timeout-ms': 10 * FREEZE_TIMEOUT_DEFAULT_MS})
        self.register(root, {'paths': [self.bob.home, self.home_volume]})
        self.assertCallFails('InvalidArgument', self.register, root,
                             {'paths': [f'{self.link}/index.sqlite']})

    def test_a_symbolic_link_as_the_path_is_refused(self):
        # the path names the link itself, which is hers; a restore of "the
        # notes writer's data" would follow it into bob's home. vssd refuses
        # symbolic links anywhere in a path (docs/design.md §6a), also root's
        alice = self.client(uid=self.alice.uid)
        for caller, link in ((alice, self.link), (alice, self.bobs), (self.client(), self.bobs)):
            with self.subTest(caller=caller.unique_name, link=link):
                error = self.assertCallFails('InvalidArgument', self.register, caller,
                                             {'paths': [link]})
                self.assertIn(link, error.message)
                self.assertIn('symbolic link', error.message)
        self.assertEqual(self.writers(), [])

    def test_refusals_tell_nothing_of_directories_she_cannot_search(self):
        # bob's home is 0700: whether bob/secret exists, and whose it is, is
        # not alice's to learn, and vssd checks as root
        alice = self.client(uid=self.alice.uid)
        with as_user(self.alice):
            with self.assertRaises(PermissionError):
                os.stat(os.path.join(self.bob.home, 'secret'))
        messages = {}
        for name in ('secret', 'missing'):
            path = os.path.join(self.bob.home, name)
            error = self.assertCallFails('NotAuthorized', self.register, alice,
                                         {'paths': [path]})
            messages[name] = error.message.replace(path, 'PATH')
        self.assertEqual(messages['secret'], messages['missing'])

    def test_takes_part_only_in_backups_of_the_subvolume_of_its_paths(self):
        writer = self.writer('notes', {'paths': [self.notes]}, uid=self.alice.uid)
        other = self.subvolume('srv', {'data': b'data'})
        root = self.client()

        # root's backups of another subvolume: in one call, no event at all
        set_id, _ = root.create_snapshot_set([other])
        spin(0.2)
        self.assertEqual(writer.names(), [])
        root.delete_snapshot_set(set_id)
        # step by step, Identify only (every writer is asked who it is before
        # the set is known), and it is never frozen
        backup = self.requester()
        self.backup_until_prepared(backup, [other])
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        spin(0.2)
        self.assertEqual(writer.names(), ['Identify'])

        # a backup of the subvolume that holds its path: all of it
        set_id, _ = root.create_snapshot_set([other, self.home_volume])
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), ['Identify', 'Identify', 'PrepareForBackup',
                                          'PrepareForSnapshot', 'Freeze', 'Thaw',
                                          'PostSnapshot', 'BackupComplete', 'BackupShutdown'])
        prepare = writer.last('PrepareForBackup')
        self.assertEqual(prepare.details['affected-paths'], [self.notes])
        self.assertEqual(prepare.details['volumes'], [self.home_volume])
        root.delete_snapshot_set(set_id)

    def test_a_symbolic_link_swapped_in_later_leads_nowhere(self):
        # registered with a directory of hers; then she makes its parent a
        # symbolic link into root's subvolume, where the same name exists
        parent = self.alice.make(os.path.join(self.alice.home, 'a'))
        self.alice.make(os.path.join(parent, 'b'))
        writer = self.writer('notes', {'paths': [os.path.join(parent, 'b')]},
                             uid=self.alice.uid)
        other = self.subvolume('srv')
        os.mkdir(os.path.join(other, 'b'))
        os.rename(parent, parent + '.old')
        os.symlink(other, parent)
        set_id, _ = self.client().create_snapshot_set([other])
        spin(0.2)
        self.assertEqual(writer.names(), [])
        self.client().delete_snapshot_set(set_id)


def readme_block(language, says):
    """The one ```@language block of the README that says @says."""
    with open(README) as f:
        readme = f.read()
    blocks = [b for b in re.findall(rf'^```{language}\n(.*?)^```$', readme, re.M | re.S)
              if says in b]
    assert len(blocks) == 1, f'one {language} block with {says!r} in the README'
    return blocks[0]


class ReadmeSnippetTest(NonRootTestCase):
    """The README's descriptor snippet, run as written by an ordinary user."""

    def test_descriptor_snippet(self):
        self.alice.make(os.path.join(self.alice.home, 'diary.txt'), b'dear diary\n', 0o600)
        archive = os.path.join(self.outbox, 'home.tar')
        snippet = readme_block('python', 'pass_fds')
        for old, new in (("['/home']", repr([self.home_volume])),
                         ("'/home'", repr(self.home_volume)),
                         ("'/tmp/home.tar'", repr(archive))):
            self.assertIn(old, snippet)
            snippet = snippet.replace(old, new)
        path = os.path.join(self.outbox, 'snippet.py')
        with open(path, 'w') as f:
            f.write(snippet)
        program = self.run_as(self.alice, [PYTHON, path], 'README snippet')
        self.assertEqual(program.finish(), 0, program.describe())
        self.assertEqual(program.lines, ["['diary.txt']"])
        self.assertEqual(sorted(tar_tree(archive)), ['.', 'diary.txt'])
        # the set went with the snippet's connection
        self.wait_until_no_snapshots(self.home_volume)


# the README's rule under a stand-in for polkit's JavaScript API: what it
# answers for each action and group (gjs is a JavaScript engine, as polkitd's)
RULE_HARNESS = '''
const polkit = {
    Result: {YES: 'yes', NO: 'no', AUTH_ADMIN: 'auth_admin', AUTH_SELF: 'auth_self'},
    rules: [],
    addRule(rule) { this.rules.push(rule); },
};
%s
const answers = [];
for (const id of ['org.freedesktop.vss1.backup', 'org.freedesktop.vss1.manage-snapshots',
                  'org.freedesktop.vss1.restore', 'org.freedesktop.udisks2.filesystem-mount'])
    for (const groups of [['backup'], ['alice', 'backup'], ['alice'], []]) {
        const subject = {user: 'alice', local: true, active: true,
                         isInGroup: group => groups.includes(group)};
        const action = {id, lookup: () => undefined};
        answers.push(polkit.rules.map(rule => String(rule(action, subject))).join(','));
    }
print(polkit.rules.length, answers.join(' '));
'''


class PolkitRuleSyntaxTest(unittest.TestCase):
    """The README's polkit rule as JavaScript, without root or polkitd."""

    def test_rule_answers_yes_for_backup_to_the_group_only(self):
        if not os.access(GJS, os.X_OK):
            self.skipTest(f'{GJS} is missing')
        rule = readme_block('js', 'polkit.addRule')
        result = subprocess.run([GJS, '-c', RULE_HARNESS % rule], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split(), [
            '1',
            # backup: yes for members of the group; no opinion otherwise, so
            # that the action's defaults and other rules decide
            'yes', 'yes', 'undefined', 'undefined',
            *['undefined'] * 12])


class PolkitRuleTest(NonRootTestCase):
    """The README's rule, judged by Debian's real polkitd on the test bus.

    polkitd reads its rules from /etc/polkit-1/rules.d and its actions from
    /usr/share/polkit-1/actions only: it runs in a mount namespace of its own
    where those are directories of the test, holding the README's rule and
    the project's actions beside the system's."""

    POLKITD = '/usr/lib/polkit-1/polkitd'
    RULES = '/etc/polkit-1/rules.d'
    ACTIONS = '/usr/share/polkit-1/actions'
    alice_groups = ('backup',)

    @classmethod
    def setUpClass(cls):
        for path in (cls.POLKITD, cls.RULES, cls.ACTIONS):
            if not os.path.exists(path):
                raise unittest.SkipTest(f'{path} is missing (Debian package polkitd)')
        if shutil.which('unshare') is None:
            raise unittest.SkipTest('unshare is missing')
        # polkitd drops to the user polkitd before it takes its name; the
        # harness's bus lets only root own it
        config = vsstest.BUS_CONFIG
        vsstest.BUS_CONFIG = config.replace(
            '  <policy user="root">',
            '  <policy user="polkitd">\n'
            '    <allow own="org.freedesktop.PolicyKit1"/>\n'
            '  </policy>\n'
            '  <policy user="root">')
        try:
            super().setUpClass()
        finally:
            vsstest.BUS_CONFIG = config

    def setUp(self):
        super().setUp()
        self._stop_polkitd()  # the mock gives way to the real one
        self.polkit_dir = tempfile.mkdtemp(prefix='polkit-', dir=self.tmpdir)
        self.addCleanup(shutil.rmtree, self.polkit_dir, ignore_errors=True)
        rules = os.path.join(self.polkit_dir, 'rules.d')
        actions = os.path.join(self.polkit_dir, 'actions')
        os.mkdir(rules)
        shutil.copytree(self.ACTIONS, actions)
        shutil.copy(os.path.join(SRCDIR, 'polkit', 'org.freedesktop.vss1.policy'), actions)
        with open(os.path.join(rules, '50-vss-backup.rules'), 'w') as f:
            f.write(readme_block('js', 'polkit.addRule'))
        for path in (self.polkit_dir, rules, actions):
            os.chmod(path, 0o755)
        log = open(os.path.join(self.polkit_dir, 'polkitd.log'), 'w+')
        self.addCleanup(log.close)
        self.real_polkitd = subprocess.Popen(
            ['unshare', '--mount', '--propagation', 'private', 'sh', '-ec',
             f'mount --bind {rules} {self.RULES}; mount --bind {actions} {self.ACTIONS}; '
             f'exec {self.POLKITD} --no-debug'],
            # polkitd is not ours to instrument
            env={**{k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES},
                 'DBUS_SYSTEM_BUS_ADDRESS': self.address},
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_real_polkitd)
        bus = self.client()
        deadline = time.monotonic() + 20
        while True:
            try:
                bus.connection.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                         'org.freedesktop.DBus', 'GetNameOwner',
                                         GLib.Variant('(s)', ('org.freedesktop.PolicyKit1',)),
                                         None, 0, 1000, None)
                break
            except GLib.Error:
                log.seek(0)
                self.assertIsNone(self.real_polkitd.poll(), log.read())
                self.assertLess(time.monotonic(), deadline, 'polkitd took no name')
                time.sleep(0.05)
        self.polkitd_log = log

    def stop_real_polkitd(self):
        self.real_polkitd.send_signal(signal.SIGTERM)
        try:
            self.real_polkitd.wait(10)
        except subprocess.TimeoutExpired:
            self.real_polkitd.kill()
            self.real_polkitd.wait()

    def test_the_group_backs_up_without_a_password(self):
        self.alice.make(os.path.join(self.alice.home, 'diary.txt'), b'dear diary\n', 0o600)
        archive = os.path.join(self.outbox, 'home.tar')
        # alice is in the group (and has no other groups in her process:
        # polkit asks the group database)
        backup = self.run_as(self.alice, [PYTHON, HOME_BACKUP, archive], 'home-backup')
        self.assertEqual(backup.finish(), 0, backup.describe())
        self.assertEqual(sorted(tar_tree(archive)), ['.', 'diary.txt'])
        self.wait_until_no_snapshots(self.home_volume)
        # bob is not: the action's default wants an admin's password, and no
        # agent is there to ask for it
        os.chown(self.outbox, self.bob.uid, self.bob.gid)
        refused = self.run_as(self.bob, [PYTHON, HOME_BACKUP, archive + '.bob'], 'home-backup')
        self.assertEqual(refused.finish(), 1, refused.describe())
        self.assertIn(ACTIONS['backup'], refused.stderr)
        self.assertEqual(self.snapshots_on_disk(self.home_volume), [])
        # the rule grants nothing else: alice may not delete, nor open
        # root's snapshots
        alice = self.client(uid=self.alice.uid)
        set_id, [snapshot] = self.client().create_snapshot_set([self.home_volume])
        self.assertCallFails('NotAuthorized', alice.open_snapshot, snapshot)
        self.assertCallFails('NotAuthorized', alice.delete_snapshot_set, set_id)
        self.client().delete_snapshot_set(set_id)
        self.polkitd_log.seek(0)
        self.assertNotRegex(self.polkitd_log.read(), r'(?i)error|exception')


if __name__ == '__main__':
    unittest.main()
