#!/usr/bin/python3
"""vssd's security model (README: "Security model"; docs/design.md §5, §6): polkit
on every privileged call, the bus policy, object ownership, paths swapped
under the service, limits and hostile input. Unprivileged callers are
connections made as nobody (uid 65534); root is uid 0, which needs no polkit
answer. The files that carry the policy (polkit actions, systemd unit, bus
configuration) are checked as they are installed."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree

import btrfsutil
import dbus

from gi.repository import Gio, GLib

from vsstest import (BACKUP_IFACE, MANAGER_IFACE, NOBODY_UID, SNAPSHOT_IFACE, SRCDIR,
                     VSS_NAME, VSS_PATH, WRITER_IFACE, Client, Vssd, VssError, VssTestCase,
                     iterate_until, spin, vardict)

ACTIONS = {
    'backup': 'org.freedesktop.vss1.backup',
    'restore': 'org.freedesktop.vss1.restore',
    'register-writer': 'org.freedesktop.vss1.register-writer',
    'manage-snapshots': 'org.freedesktop.vss1.manage-snapshots',
}

# which action each privileged call needs (docs/design.md §6)
CALL_ACTIONS = {
    'CreateBackupComponents': 'backup',
    'CreateBackupComponents(owner=user)': 'backup',
    'InitializeForRestore': 'restore',
    'RegisterWriter': 'register-writer',
    'Snapshot.Delete': 'manage-snapshots',
    'DeleteSnapshotSet': 'manage-snapshots',
    'CreateSnapshotSet': 'backup',
    # of a set the caller does not own (docs/design.md §6a)
    'Snapshot.Open': 'manage-snapshots',
}



def read_limits():
    """The #defines of service/vss-limits.h, the one place the limits are set."""
    with open(os.path.join(SRCDIR, 'service', 'vss-limits.h')) as f:
        header = f.read()
    limits = {name: int(value) for name, value in
              re.findall(r'^#define\s+(VSS_\w+)\s+(\d+)\s*$', header, re.M)}
    # and the products, such as (16 * 1024 * 1024) or ((guint64)1024 * 1024)
    for name, product in re.findall(
            r'^#define\s+(VSS_\w+)\s+\((?:\(\w+\))?([\d\s*]+)\)\s*$', header, re.M):
        limits[name] = 1
        for factor in product.split('*'):
            limits[name] *= int(factor)
    return limits


LIMITS = read_limits()
WRITERS_PER_CONNECTION = LIMITS['VSS_LIMIT_WRITERS_PER_CONNECTION']
BACKUPS_PER_CONNECTION = LIMITS['VSS_LIMIT_BACKUPS_PER_CONNECTION']
USER_BACKUPS_PER_UID = LIMITS['VSS_LIMIT_USER_BACKUPS_PER_UID']
VOLUMES_PER_SET = LIMITS['VSS_SNAPSHOT_SET_MAX_VOLUMES']
PENDING_EVENTS_PER_WRITER = LIMITS['VSS_WRITER_PENDING_EVENTS_MAX']
WRITERS_PER_UID = LIMITS['VSS_LIMIT_WRITERS_PER_UID']
WRITERS_TOTAL = LIMITS['VSS_LIMIT_WRITERS_TOTAL']
PERSISTENT_SETS_PER_UID = LIMITS['VSS_LIMIT_PERSISTENT_SETS_PER_UID']
CALLS_IN_FLIGHT_PER_CONNECTION = LIMITS['VSS_LIMIT_CALLS_IN_FLIGHT_PER_CONNECTION']
METADATA_MAX = LIMITS['VSS_WRITER_METADATA_MAX']
IDLE_TIMEOUT_MIN_S = LIMITS['VSS_IDLE_TIMEOUT_MIN_S']
REPLY_SIZE_MAX = LIMITS['VSS_REPLY_SIZE_MAX']
# dbus-daemon's max_message_size on the system bus (and on the test bus, which
# does not set it): a bigger message makes the bus disconnect its sender
BUS_MESSAGE_MAX = 32 * 1024 * 1024

# a second unprivileged uid; dbus-daemon refuses uids without a passwd entry
OTHER_UID = pwd.getpwnam('daemon').pw_uid


def variant(signature, *values):
    return GLib.Variant(signature, values)


def error_of(pending):
    """The error name of a call: the short one for vss errors, else the D-Bus name."""
    try:
        pending.wait()
    except VssError as e:
        return e.name
    return None


class WriterPool(Client):
    """Many writers on one connection, each acknowledging every event at once:
    hundreds of writers cost a few connections instead of one each."""

    def __init__(self, address, uid=None):
        super().__init__(address, uid)
        self.paths = set()
        self.connection.signal_subscribe(None, WRITER_IFACE, None, None, None,
                                         Gio.DBusSignalFlags.NONE, self._on_signal)

    def _on_signal(self, connection, sender, path, interface, signal_name, params):
        if path in self.paths:
            serial = params.get_child_value(0).get_uint64()
            self.call_async(path, WRITER_IFACE, 'Ack', GLib.Variant('(t)', (serial,)))

    def register(self, name, options=None):
        """RegisterWriter in flight; the writer answers once it is registered."""
        def registered(pending):
            if pending.error is None:
                self.paths.add(pending.result.unpack()[0])
        return self.call_async(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                               GLib.Variant('(sa{sv})', (name, vardict(options))),
                               on_done=registered)


class SecurityTestCase(VssTestCase):
    """Helpers shared by the tests below."""

    def setUp(self):
        super().setUp()
        # CheckAuthorization as the polkitd template answers it, but logged, so
        # that tests can read what vssd asked (subject, details, flags)
        self.polkitd_mock.AddMethod(
            'org.freedesktop.PolicyKit1.Authority', 'CheckAuthorization',
            '(sa{sv})sa{ss}us', '(bba{ss})',
            'time.sleep(self.delay); '
            'ret = (args[1] in self.allowed or self.allow_unknown, False, {})')
        self.polkitd_mock.AllowUnknown(False)
        self.set_allowed([])
        self.userdata = None

    def user_path(self, uid=NOBODY_UID):
        """A directory of @uid's: a writer of a user other than root names only
        paths it owns (docs/design.md §6a)."""
        if self.userdata is None:
            self.userdata = self.subvolume('userdata')
        path = os.path.join(self.userdata, str(uid))
        if not os.path.isdir(path):
            os.mkdir(path)
            os.chown(path, uid, uid)
        return path

    def set_allowed(self, action_ids):
        self.polkitd_mock.SetAllowed(dbus.Array(action_ids, signature='s'))

    def allow(self, *actions):
        """polkit says yes to @actions (short names) and no to the rest."""
        self.set_allowed([ACTIONS[a] for a in actions])

    def polkit_checks(self):
        """[(action id, details, flags, subject)] that vssd asked since the last clear."""
        checks = []
        for _, args in self.polkitd_mock.GetMethodCalls('CheckAuthorization'):
            subject, action_id, details, flags, _cancellation = args
            checks.append((str(action_id), {str(k): str(v) for k, v in details.items()},
                           int(flags), (str(subject[0]),
                                        {str(k): str(v) for k, v in subject[1].items()})))
        return checks

    def nobody(self):
        return self.client(uid=NOBODY_UID)

    def writer_pool(self, uid=None):
        pool = WriterPool(self.address, uid)
        self.clients.append(pool)
        return pool

    def register_writer(self, client, name, options=None):
        """RegisterWriter in flight from @client (a writer that answers nothing)."""
        return client.call_async(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                                 variant('(sa{sv})', name, vardict(options)))

    def calls_in_turn(self, queues, timeout=60):
        """Starts the calls of each queue (callables that start one call each)
        with at most CALLS_IN_FLIGHT_PER_CONNECTION in flight per queue, as a
        client that keeps to the bound would; waits for all; returns them,
        queue after queue."""
        waiting = [list(reversed(queue)) for queue in queues]
        running = [[] for _ in queues]
        started = [[] for _ in queues]

        def top_up():
            for i, queue in enumerate(waiting):
                running[i] = [c for c in running[i] if not c.done]
                while queue and len(running[i]) < CALLS_IN_FLIGHT_PER_CONNECTION:
                    call = queue.pop()()
                    running[i].append(call)
                    started[i].append(call)
            return not any(waiting) and not any(running)

        iterate_until(top_up, timeout=timeout, what='the calls')
        return [call for calls in started for call in calls]

    def create_backup_async(self, client, on_done=None):
        """CreateBackupComponents in flight from @client."""
        return client.call_async(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                                 variant('(a{sv})', {}), on_done=on_done)

    def create_snapshot_set(self, client, paths, options=None):
        """CreateSnapshotSet in flight from @client; wait() gives (set id, snapshots)."""
        return client.create_snapshot_set_async(paths, options)

    def persistent_set(self, volume):
        """A complete persistent snapshot set of @volume, made by root; its id."""
        backup = self.requester()
        set_id = self.backup_until_prepared(backup, [volume], context='persistent')
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        backup.client.close()
        return set_id

    def snapshot_objects(self, client=None):
        """{object path: properties} of every exported Snapshot."""
        client = client or self.client()
        return {path: ifaces[SNAPSHOT_IFACE] for path, ifaces in client.managed_objects().items()
                if SNAPSHOT_IFACE in ifaces}

    def objects_of(self, kind, client=None):
        client = client or self.client()
        return sorted(p for p in client.managed_objects() if f'/{kind}/' in p)

    def assertStillServing(self):
        """vssd runs and answers a bystander's call."""
        self.assertTrue(self.vssd.running(), 'vssd is gone:\n' + self.vssd.log())
        bystander = Client(self.address)
        try:
            version = bystander.get_property(VSS_PATH, MANAGER_IFACE, 'Version')
            self.assertTrue(version)
        finally:
            bystander.close()

    def read_only_subvolume(self, path, source=None):
        """A read-only subvolume at @path (a snapshot of @source, else a new one)."""
        if source is None:
            btrfsutil.create_subvolume(path)
            btrfsutil.set_subvolume_read_only(path, True)
        else:
            btrfsutil.create_snapshot(source, path, read_only=True)
        return path

    def plant_trap(self, decoy, snapshot_id):
        """<decoy>/.vss-snapshots/<snapshot_id>, a read-only subvolume that vssd must
        never snapshot into or delete, made as vssd itself would make it."""
        snapdir = os.path.join(decoy, '.vss-snapshots')
        if not os.path.exists(snapdir):
            btrfsutil.create_subvolume(snapdir)
            os.chmod(snapdir, 0o700)
        return self.read_only_subvolume(os.path.join(snapdir, snapshot_id), source=decoy)

    def assertTrapIntact(self, trap):
        self.assertTrue(os.path.isdir(trap), f'{trap} was deleted')
        self.assertTrue(btrfsutil.is_subvolume(trap))
        self.assertTrue(btrfsutil.get_subvolume_read_only(trap))
        self.assertEqual(os.listdir(os.path.dirname(trap)), [os.path.basename(trap)],
                         'something was put beside the trap')


class PolkitTest(SecurityTestCase):
    """Each privileged call is authorized by its action, and only by it."""

    def setUp(self):
        super().setUp()
        self.volume = self.subvolume('v')
        self.set_ids = [self.persistent_set(self.volume) for _ in range(2)]
        # root's set, for Open; CreateSnapshotSet makes one beside it
        self.other_volume = self.subvolume('o')
        self.open_set = self.persistent_set(self.other_volume)
        [self.open_snapshot] = self.snapshots_on_disk(self.other_volume)

    def attempt_every_privileged_call(self, caller):
        """Makes each privileged call once as @caller; {call: error name or None}."""
        # the object InitializeForRestore is called on exists before polkit is
        # asked anything else
        self.allow(*ACTIONS)
        own_backup = caller.create_backup()
        self.set_allowed(self.allowed_now)

        snapshot_path = next(p for p, props in self.snapshot_objects().items()
                             if props['SnapshotSetId'] == self.set_ids[0])
        open_path = next(p for p, props in self.snapshot_objects().items()
                         if props['SnapshotSetId'] == self.open_set)
        calls = {
            'CreateBackupComponents': caller.call_async(
                VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents', variant('(a{sv})', {})),
            'CreateBackupComponents(owner=user)': caller.call_async(
                VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                variant('(a{sv})', vardict({'owner': 'user'}))),
            'InitializeForRestore': own_backup.call_async('InitializeForRestore'),
            'RegisterWriter': caller.call_async(
                VSS_PATH, MANAGER_IFACE, 'RegisterWriter', variant('(sa{sv})', 'db', vardict({'paths': [self.user_path()]}))),
            'Snapshot.Delete': caller.call_async(snapshot_path, SNAPSHOT_IFACE, 'Delete'),
            'DeleteSnapshotSet': caller.call_async(
                VSS_PATH, MANAGER_IFACE, 'DeleteSnapshotSet', variant('(s)', self.set_ids[1])),
            # context backup: the set goes with the caller
            'CreateSnapshotSet': self.create_snapshot_set(caller, [self.other_volume],
                                                          {'context': 'backup'}),
            'Snapshot.Open': caller.call_async(
                open_path, SNAPSHOT_IFACE, 'Open', variant('(a{sv})', {}), fds=[]),
        }
        results = {}
        self.messages = {}
        for name, pending in calls.items():
            try:
                pending.wait()
                results[name] = None
            except VssError as e:
                results[name] = e.name
                self.messages[name] = e.message
            for fd in pending.fds:
                os.close(fd)
        self.own_backup = own_backup
        self.opened = calls['Snapshot.Open'].fds
        return results

    def check_denied(self, denied_action):
        """polkit says no to @denied_action only: exactly its calls fail, and do nothing."""
        self.allowed_now = [ACTIONS[a] for a in ACTIONS if a != denied_action]
        caller = self.nobody()
        objects_before = caller.managed_objects()
        results = self.attempt_every_privileged_call(caller)
        expected = {name: ('NotAuthorized' if action == denied_action else None)
                    for name, action in CALL_ACTIONS.items()}
        self.assertEqual(results, expected)
        for name, action in CALL_ACTIONS.items():
            if action == denied_action:
                self.assertIn(ACTIONS[action], self.messages[name])
        # nothing happened for the refused calls
        objects = caller.managed_objects()
        if denied_action == 'backup':
            made = set(self.objects_of('BackupComponents', caller)) - set(objects_before)
            self.assertEqual(made, {self.own_backup.path})
        if denied_action == 'restore':
            self.assertEqual(self.own_backup.state, 'created')
        if denied_action == 'register-writer':
            self.assertEqual(self.objects_of('Writer', caller), [])
        if denied_action == 'manage-snapshots':
            self.assertEqual(len(self.snapshots_on_disk(self.volume)), 2)
            self.assertEqual(self.opened, [])
            # root's set for Open, the caller's new one
            self.assertEqual(len(self.records()), 2 + 2)
            self.assertEqual(len([p for p in objects if '/Snapshot/' in p]), 2 + 2)
        else:
            self.assertEqual(len(self.opened), 1)
        if denied_action == 'backup':
            self.assertEqual(self.snapshots_on_disk(self.other_volume), [self.open_snapshot])
        else:
            self.assertEqual(len(self.snapshots_on_disk(self.other_volume)), 2)
        return results

    def test_backup_denied(self):
        self.check_denied('backup')

    def test_restore_denied(self):
        self.check_denied('restore')

    def test_register_writer_denied(self):
        self.check_denied('register-writer')

    def test_manage_snapshots_denied(self):
        self.check_denied('manage-snapshots')

    def test_everything_allowed(self):
        self.allowed_now = list(ACTIONS.values())
        caller = self.nobody()
        results = self.attempt_every_privileged_call(caller)
        self.assertEqual(results, {name: None for name in CALL_ACTIONS})
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertEqual(self.own_backup.state, 'restore-initialized')
        self.assertEqual(len(self.objects_of('Writer', caller)), 1)
        self.assertEqual(len(self.opened), 1)
        # the set CreateSnapshotSet made goes with its caller (context backup)
        self.assertEqual(len(self.snapshots_on_disk(self.other_volume)), 2)
        caller.close()
        iterate_until(lambda: self.snapshots_on_disk(self.other_volume) == [self.open_snapshot],
                      what='the set of context backup to go')

    def test_root_needs_no_polkit(self):
        self.allowed_now = []
        self.polkitd_mock.ClearCalls()
        results = self.attempt_every_privileged_call(self.client())
        self.assertEqual(results, {name: None for name in CALL_ACTIONS})
        # polkit was not even asked
        self.assertEqual(self.polkit_checks(), [])

    def test_everything_denied_listing_still_open(self):
        self.allowed_now = []
        caller = self.nobody()
        results = self.attempt_every_privileged_call(caller)
        self.assertEqual(results, {name: 'NotAuthorized' for name in CALL_ACTIONS})
        # listing is open to all (docs/design.md §6)
        self.assertEqual(len(self.snapshot_objects(caller)), 3)
        self.assertTrue(caller.get_property(VSS_PATH, MANAGER_IFACE, 'Version'))

    def test_polkit_is_asked_for_the_caller_with_details(self):
        self.allow(*ACTIONS)
        caller = self.nobody()
        self.polkitd_mock.ClearCalls()
        backup = caller.create_backup()
        caller.call(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                    variant('(a{sv})', vardict({'owner': 'user'})))
        backup.InitializeForRestore()
        caller.call(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                    variant('(sa{sv})', 'Mail store', vardict({'paths': [self.user_path()]})))
        snapshots = self.snapshot_objects()
        snapshot_path, props = next((p, s) for p, s in snapshots.items()
                                    if s['SnapshotSetId'] == self.set_ids[0])
        caller.call(snapshot_path, SNAPSHOT_IFACE, 'Delete')
        other_snapshot = next(s['SnapshotPath'] for s in snapshots.values()
                              if s['SnapshotSetId'] == self.set_ids[1])
        caller.delete_snapshot_set(self.set_ids[1])

        checks = self.polkit_checks()
        self.assertEqual([c[0] for c in checks], [
            ACTIONS['backup'], ACTIONS['backup'], ACTIONS['restore'],
            ACTIONS['register-writer'], ACTIONS['manage-snapshots'],
            ACTIONS['manage-snapshots']])
        # the subject is the calling bus name, never a pid that could be reused
        for _, _, _, subject in checks:
            self.assertEqual(subject, ('system-bus-name', {'name': caller.unique_name}))
        details = [c[1] for c in checks]
        self.assertEqual(details[0], {'owner': 'connection'})
        self.assertEqual(details[1], {'owner': 'user'})
        self.assertEqual(details[2], {'backup': backup.path})
        self.assertEqual(details[3], {'writer': 'Mail store'})
        self.assertEqual(details[4], {'snapshot': props['SnapshotPath'],
                                      'subvolume': self.volume})
        self.assertEqual(details[5], {'snapshot-set': self.set_ids[1],
                                      'snapshots': other_snapshot})
        # nobody asked for interaction here
        self.assertEqual({c[2] for c in checks}, {0})

    def test_open_by_the_owner_needs_no_polkit(self):
        # a set of nobody's (CreateSnapshotSet: nobody's by uid); root's set
        self.allow('backup')
        owner = self.nobody()
        own_set, [own] = owner.create_snapshot_set([self.other_volume])
        roots = next(p for p, props in self.snapshot_objects().items()
                     if props['SnapshotSetId'] == self.open_set)
        self.polkitd_mock.ClearCalls()
        for client in (owner, self.nobody()):  # any connection of the owner's uid
            os.close(client.open_snapshot(own))
        self.assertEqual(self.polkit_checks(), [])
        # another user, and nobody on root's set: manage-snapshots, refused
        for client, snapshot in ((self.client(uid=OTHER_UID), own), (owner, roots)):
            error = self.assertCallFails('NotAuthorized', client.open_snapshot, snapshot)
            self.assertIn(ACTIONS['manage-snapshots'], error.message)
        self.assertEqual([c[0] for c in self.polkit_checks()],
                         [ACTIONS['manage-snapshots']] * 2)
        # allowed to manage snapshots, both open any
        self.allow('manage-snapshots')
        os.close(self.client(uid=OTHER_UID).open_snapshot(own))
        os.close(owner.open_snapshot(roots))
        self.client().delete_snapshot_set(own_set)

    def test_polkit_details_of_create_snapshot_set_and_open(self):
        # what an admin's rule can look up (README: "Security model"): the
        # paths, as for Snapshot.Delete
        self.allow(*ACTIONS)
        caller = self.nobody()
        self.polkitd_mock.ClearCalls()
        caller.create_snapshot_set([self.other_volume, self.volume], {'context': 'backup'})
        path, props = next((p, props) for p, props in self.snapshot_objects().items()
                           if props['SnapshotSetId'] == self.open_set)
        os.close(caller.open_snapshot(path))
        checks = self.polkit_checks()
        self.assertEqual([c[0] for c in checks], [ACTIONS['backup'], ACTIONS['manage-snapshots']])
        self.assertEqual(checks[0][1], {'subvolumes': f'{self.other_volume} {self.volume}'})
        self.assertEqual(checks[1][1], {'snapshot': props['SnapshotPath'],
                                        'subvolume': self.other_volume})

    def test_interactive_authorization_when_the_caller_allows_it(self):
        self.allow(*ACTIONS)
        caller = self.nobody()
        self.polkitd_mock.ClearCalls()
        for flags in (Gio.DBusCallFlags.NONE, Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION):
            caller.connection.call_sync(
                VSS_NAME, VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                variant('(sa{sv})', f'w{int(flags)}', vardict({'paths': [self.user_path()]})),
                None, flags, 10000, None)
        # POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION is 1
        self.assertEqual([c[2] for c in self.polkit_checks()], [0, 1])

    def test_caller_gone_while_polkit_decides_gets_nothing(self):
        self.allow(*ACTIONS)
        self.polkitd_mock.ClearCalls()
        self.polkitd_mock.SetDelay(1.0)
        caller = self.nobody()
        caller.call_async(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                          variant('(a{sv})', {}))
        caller.call_async(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                          variant('(sa{sv})', 'w', vardict({'paths': [self.user_path()]})))
        # vssd has asked polkit, which takes its time; the caller leaves
        spin(0.4)
        caller.close()
        spin(2.5)
        self.polkitd_mock.SetDelay(0.0)
        self.assertEqual(len(self.polkit_checks()), 2)
        self.assertEqual(self.objects_of('BackupComponents'), [])
        self.assertEqual(self.objects_of('Writer'), [])
        self.assertStillServing()


class AuthorizationFloodTest(SecurityTestCase):
    """Calls waiting for polkit are bounded per connection and end with their
    caller (README: "Security model")."""

    def setUp(self):
        super().setUp()
        self.allow(*ACTIONS)
        # libpolkit tells polkitd when a check is no longer wanted; record it
        self.polkitd_mock.AddMethod('org.freedesktop.PolicyKit1.Authority',
                                    'CancelCheckAuthorization', 's', '', '')

    def test_calls_waiting_for_polkit_per_connection(self):
        # polkit answers one check every 0.5 s, as a slow or interactive one would
        self.polkitd_mock.ClearCalls()
        self.polkitd_mock.SetDelay(0.5)
        flooder = self.nobody()
        flood = [self.create_backup_async(flooder)
                 for _ in range(3 * CALLS_IN_FLIGHT_PER_CONNECTION)]
        # past the bound: refused at once, before polkit has answered any
        iterate_until(lambda: sum(c.done for c in flood) >= 2 * CALLS_IN_FLIGHT_PER_CONNECTION,
                      timeout=5, what='the calls past the bound to be refused')
        refused = [c for c in flood if c.done]
        self.assertEqual(len(refused), 2 * CALLS_IN_FLIGHT_PER_CONNECTION)
        self.assertEqual({c.error.name for c in refused}, {'LimitReached'})
        self.assertIn(flooder.unique_name, refused[0].error.message)
        self.assertIn(str(CALLS_IN_FLIGHT_PER_CONNECTION), refused[0].error.message)
        # others are served: root needs no polkit answer, and another
        # connection (even of the same uid) has a bound of its own
        self.assertTrue(self.client().create_backup().path)
        neighbour = self.create_backup_async(self.nobody())
        self.assertFalse(any(c.done for c in flood if c not in refused))
        # the flooder leaves while its checks wait: they are cancelled, and
        # nothing is made for it when polkit answers them after all
        flooder.close()
        neighbour.wait()
        iterate_until(lambda: self.polkitd_mock.GetMethodCalls('CancelCheckAuthorization'),
                      timeout=20, what='polkit to be told that checks were cancelled')
        spin(0.5)
        asked = [c for c in self.polkit_checks() if c[3][1]['name'] == flooder.unique_name]
        self.assertEqual(len(asked), CALLS_IN_FLIGHT_PER_CONNECTION)
        self.assertEqual(len(self.objects_of('BackupComponents')), 2)
        self.polkitd_mock.SetDelay(0.0)
        self.assertStillServing()


class PolkitBudgetTest(SecurityTestCase):
    """On a bus with the system bus's default limits, where vssd may wait for
    at most 128 replies at once (max_replies_per_connection): one uid with
    many connections cannot use them all up so that others' checks fail."""

    BUDGET = 128
    bus_limits = {'max_replies_per_connection': BUDGET}

    def test_one_uid_cannot_use_up_the_polkit_checks_of_all(self):
        self.allow(*ACTIONS)
        self.polkitd_mock.SetDelay(0.5)
        state = {'flooding': True}

        def keep_calling(flooder):
            # each answered call's place is taken again at once; a refused
            # one is not sent again, so the flood does not spin
            def done(pending):
                if state['flooding'] and pending.error is None:
                    keep_calling(flooder)
            self.create_backup_async(flooder, on_done=done)

        # as many connections as it takes to fill the budget within the
        # bound per connection (a user may have 256 on the system bus)
        for _ in range(self.BUDGET // CALLS_IN_FLIGHT_PER_CONNECTION + 1):
            flooder = self.nobody()
            for _ in range(CALLS_IN_FLIGHT_PER_CONNECTION):
                keep_calling(flooder)
        spin(1.0)
        # another user's checks are made: answered, or still waiting for
        # polkit, but not refused for want of room
        victim = self.client(uid=OTHER_UID)
        for attempt in range(3):
            call = victim.call_async(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                                     variant('(a{sv})', {}))
            spin(1.0)
            with self.subTest(attempt=attempt):
                self.assertIsNone(call.error, 'the check of another uid failed')
        state['flooding'] = False
        self.assertStillServing()


class BusPolicyTest(SecurityTestCase):
    """dbus/org.freedesktop.Vss1.conf on a bus configured like the system bus."""

    def request_name(self, client):
        return client.connection.call_sync(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
            'RequestName', variant('(su)', VSS_NAME, 4), None, Gio.DBusCallFlags.NONE,
            10000, None).unpack()[0]

    def assertAccessDenied(self, callable_, *args):
        with self.assertRaises(GLib.Error) as raised:
            callable_(*args)
        self.assertEqual(Gio.DBusError.get_remote_error(raised.exception),
                         'org.freedesktop.DBus.Error.AccessDenied', raised.exception.message)

    def test_unprivileged_connection_cannot_own_the_name(self):
        self.assertAccessDenied(self.request_name, self.nobody())
        # nor once vssd has let it go
        self.vssd.stop()
        self.assertAccessDenied(self.request_name, self.nobody())
        self.assertAccessDenied(self.request_name, self.client(uid=OTHER_UID))
        # root may (DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
        self.assertEqual(self.request_name(self.client()), 1)

    def test_anyone_may_call_the_interfaces(self):
        caller = self.nobody()
        self.assertTrue(caller.get_property(VSS_PATH, MANAGER_IFACE, 'Version'))
        self.assertIsInstance(caller.managed_objects(), dict)
        caller.call(VSS_PATH, 'org.freedesktop.DBus.Peer', 'Ping')
        xml = caller.call(VSS_PATH, 'org.freedesktop.DBus.Introspectable', 'Introspect')
        self.assertIn(MANAGER_IFACE, xml)
        # and reach vssd, which decides: here, polkit says no
        self.assertCallFails('NotAuthorized', caller.create_backup)

    def test_nothing_else_is_opened(self):
        caller = self.nobody()
        # an interface vssd does not have is refused by the bus, not by vssd
        for interface in ('org.freedesktop.Vss1.Debug', 'org.freedesktop.DBus.Mock',
                          'org.freedesktop.Vss1'):
            with self.subTest(interface=interface):
                self.assertAccessDenied(caller.connection.call_sync, VSS_NAME, VSS_PATH,
                                        interface, 'Crash', None, None,
                                        Gio.DBusCallFlags.NONE, 10000, None)

    def test_policy_file_grants_only_what_it_must(self):
        tree = ElementTree.parse(os.path.join(SRCDIR, 'dbus', 'org.freedesktop.Vss1.conf'))
        policies = tree.getroot().findall('policy')
        owners = [(p.attrib, r.attrib) for p in policies for r in p
                  if r.tag == 'allow' and 'own' in r.attrib]
        self.assertEqual(owners, [({'user': 'root'}, {'own': VSS_NAME})])
        for policy in policies:
            for rule in policy:
                if rule.tag != 'allow' or 'own' in rule.attrib:
                    continue
                # calls to vssd only, interface by interface
                self.assertEqual(set(rule.attrib), {'send_destination', 'send_interface'},
                                 rule.attrib)
                self.assertEqual(rule.attrib['send_destination'], VSS_NAME)
                self.assertNotIn('*', rule.attrib['send_interface'])


class OwnershipTest(SecurityTestCase):
    """Objects belong to the connection that made them (docs/design.md §6)."""

    BACKUP_CALLS = [
        ('InitializeForBackup', None), ('InitializeForRestore', None),
        ('SetContext', ('(s)', 'persistent')), ('GatherWriterMetadata', None),
        ('GatherWriterStatus', None), ('StartSnapshotSet', None),
        ('AddToSnapshotSet', ('(s)', '/')), ('PrepareForBackup', None),
        ('DoSnapshotSet', None), ('BackupComplete', None), ('AbortBackup', None),
        ('PreRestore', None), ('PostRestore', None), ('Release', None),
    ]

    def assertEveryBackupMethodRefused(self, backup, intruder):
        state = backup.state
        for method, args in self.BACKUP_CALLS:
            with self.subTest(method=method, intruder=intruder.unique_name):
                params = variant(args[0], *args[1:]) if args else None
                error = self.assertCallFails('NotAuthorized', intruder.call, backup.path,
                                             BACKUP_IFACE, method, params)
                self.assertIn(backup.path, error.message)
        # nothing changed: the owner drives it on from where it was
        self.assertEqual(backup.state, state)

    def test_backup_refuses_another_connection_of_the_same_uid(self):
        self.allow('backup', 'restore')
        backup = self.requester(uid=NOBODY_UID)
        self.assertEveryBackupMethodRefused(backup, self.nobody())
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        self.assertEveryBackupMethodRefused(backup, self.nobody())

    def test_backup_refuses_other_uids_even_root(self):
        self.allow('backup', 'restore')
        backup = self.requester(uid=NOBODY_UID)
        self.assertEveryBackupMethodRefused(backup, self.client(uid=OTHER_UID))
        backup = self.requester()
        self.assertEveryBackupMethodRefused(backup, self.nobody())
        # root is another caller too
        backup = self.requester(uid=NOBODY_UID)
        self.assertEveryBackupMethodRefused(backup, self.client())

    def test_user_owned_backup_refuses_other_uids(self):
        self.allow('backup', 'restore')
        backup = self.nobody().create_backup({'owner': 'user'})
        self.assertEveryBackupMethodRefused(backup, self.client(uid=OTHER_UID))
        self.assertEveryBackupMethodRefused(backup, self.client())
        # another connection of the owner's uid may drive it
        other = self.nobody()
        other.call(backup.path, BACKUP_IFACE, 'InitializeForBackup')
        other.call(backup.path, BACKUP_IFACE, 'Release')

    def test_writer_refuses_other_connections(self):
        self.allow('register-writer', 'backup')
        writer = self.writer('db', options={'paths': [self.user_path()]},
                             script={'Identify': 'hang'}, uid=NOBODY_UID)
        backup = self.requester()
        backup.InitializeForBackup()
        pending = backup.call_async('GatherWriterMetadata')
        event = writer.wait_for('Identify')
        calls = [
            ('Ack', variant('(t)', event.serial)),
            ('Fail', variant('(tss)', event.serial, 'retryable', 'not mine')),
            ('SetMetadata', variant('(a{sv})', vardict({'paths': ['/srv']}))),
            ('Unregister', None),
        ]
        for intruder in (self.nobody(), self.client(uid=OTHER_UID), self.client()):
            for method, params in calls:
                with self.subTest(method=method, intruder=intruder.unique_name):
                    self.assertCallFails('NotAuthorized', intruder.call, writer.path,
                                         WRITER_IFACE, method, params)
        # the event still waits for its writer, which answers it
        self.assertFalse(pending.done)
        writer.ack(event.serial)
        self.assertEqual([p for p, _, _ in pending.wait()], [writer.path])
        self.assertEqual(writer.prop('State'), 'stable')

    def test_writer_cannot_ack_another_writers_event(self):
        self.allow('register-writer')
        a = self.writer('a', options={'paths': [self.user_path()]},
                        script={'Identify': 'hang'}, uid=NOBODY_UID)
        b = self.writer('b', options={'paths': [self.user_path()]},
                        script={'Identify': 'hang'}, uid=NOBODY_UID)
        backup = self.requester()
        backup.InitializeForBackup()
        pending = backup.call_async('GatherWriterMetadata')
        event_a = a.wait_for('Identify')
        event_b = b.wait_for('Identify')
        # b answers a's event on a's object: not its object
        self.assertCallFails('NotAuthorized', b.call, a.path, WRITER_IFACE, 'Ack',
                             variant('(t)', event_a.serial))
        # serials are per writer: b's own object knows no serial beyond its own
        self.assertEqual(b.ack(event_b.serial + 1).error_name(), 'InvalidArgument')
        self.assertIsNone(b.ack(event_b.serial).error_name())
        # an event answered once is answered
        self.assertEqual(b.ack(event_b.serial).error_name(), 'BadState')
        self.assertFalse(pending.done)
        a.ack(event_a.serial)
        self.assertEqual(len(pending.wait()), 2)

    def test_writer_events_go_to_the_owner_only(self):
        self.allow('register-writer')
        writer = self.writer('db', options={'paths': [self.user_path()]}, uid=NOBODY_UID)
        eavesdropper = self.nobody()
        overheard = []
        eavesdropper.connection.signal_subscribe(
            None, WRITER_IFACE, None, None, None, Gio.DBusSignalFlags.NONE,
            lambda *args: overheard.append(args[4]))
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        spin(0.2)
        self.assertEqual(writer.names(), ['Identify'])
        self.assertEqual(overheard, [])


class PathRaceTest(SecurityTestCase):
    """Paths swapped under vssd redirect neither a snapshot nor a delete (docs/design.md §5)."""

    def swap_for_symlink(self, volume, target):
        """Moves @volume away and puts a symlink to @target in its place."""
        moved = volume + '-moved'
        os.rename(volume, moved)
        self.subvolumes.append(moved)
        os.symlink(target, volume)
        return moved

    def started_backup(self):
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        backup.StartSnapshotSet()
        return backup

    def test_symlink_swapped_in_before_do_snapshot_set(self):
        volume = self.subvolume('data', {'f': b'real'})
        decoy = self.subvolume('decoy', {'f': b'decoy'})
        backup = self.started_backup()
        snapshot_id = backup.AddToSnapshotSet(volume)
        # a snapshot put through the symlink would land on the trap's name
        trap = self.plant_trap(decoy, snapshot_id)
        moved = self.swap_for_symlink(volume, decoy)
        backup.PrepareForBackup()
        error = self.assertCallFails('ProviderFailure', backup.DoSnapshotSet)
        self.assertIn(volume, error.message)
        self.assertTrapIntact(trap)
        self.assertEqual(self.snapshots_on_disk(moved), [])
        backup.Release()
        self.assertTrapIntact(trap)
        self.assertEqual(self.records(), [])

    def test_symlink_swapped_in_during_freeze(self):
        volume = self.subvolume('data', {'f': b'real'})
        decoy = self.subvolume('decoy', {'f': b'decoy'})
        state = {}

        def freeze(writer, event):
            # after the checks of PrepareForSnapshot, right before the snapshot
            state['moved'] = self.swap_for_symlink(volume, decoy)
            writer.ack(event.serial)

        self.writer('w', script={'Freeze': freeze})
        backup = self.started_backup()
        snapshot_id = backup.AddToSnapshotSet(volume)
        trap = self.plant_trap(decoy, snapshot_id)
        backup.PrepareForBackup()
        backup.DoSnapshotSet()
        # the snapshot is of the subvolume that was added, wherever it went
        moved = state['moved']
        self.assertEqual(self.snapshots_on_disk(moved), [snapshot_id])
        with open(os.path.join(moved, '.vss-snapshots', snapshot_id, 'f'), 'rb') as f:
            self.assertEqual(f.read(), b'real')
        self.assertTrapIntact(trap)
        # and Release deletes that snapshot, not the one at the path's new target
        backup.BackupComplete()
        backup.Release()
        self.assertEqual(self.snapshots_on_disk(moved), [])
        self.assertTrapIntact(trap)

    def test_delete_through_a_swapped_snapshot_directory(self):
        volume = self.subvolume('data')
        decoy = self.subvolume('decoy')
        set_id = self.persistent_set(volume)
        [(path, props)] = self.snapshot_objects().items()
        snapshot_id = props['Id']
        trap = self.plant_trap(decoy, snapshot_id)
        # the real snapshot directory goes aside, a symlink to the trap's takes its place
        aside = os.path.join(volume, 'aside')
        os.rename(os.path.join(volume, '.vss-snapshots'), aside)
        os.symlink(os.path.join(decoy, '.vss-snapshots'), os.path.join(volume, '.vss-snapshots'))
        admin = self.client()
        self.assertCallFails('ProviderFailure', admin.call, path, SNAPSHOT_IFACE, 'Delete')
        self.assertCallFails('ProviderFailure', admin.delete_snapshot_set, set_id)
        self.assertTrapIntact(trap)
        self.assertEqual(os.listdir(aside), [snapshot_id])
        # after a restart vssd knows the path only: still nothing through the symlink
        self.vssd.stop()
        self.vssd.start()
        self.assertTrapIntact(trap)
        self.assertEqual(os.listdir(aside), [snapshot_id])

    def test_delete_snapshot_set_of_an_id_with_no_record(self):
        volume = self.subvolume('data')
        set_id = self.persistent_set(volume)
        [snapshot_id] = self.snapshots_on_disk(volume)
        # a read-only subvolume where vssd keeps snapshots, that no record names
        stray_id = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
        stray = self.read_only_subvolume(os.path.join(volume, '.vss-snapshots', stray_id))
        admin = self.client()
        for wrong_id in (stray_id, snapshot_id):
            with self.subTest(set_id=wrong_id):
                self.assertCallFails('ObjectNotFound', admin.delete_snapshot_set, wrong_id)
        self.assertTrue(os.path.isdir(stray))
        self.assertEqual(sorted(self.snapshots_on_disk(volume)), sorted([snapshot_id, stray_id]))
        # the real set goes, the stray stays
        admin.delete_snapshot_set(set_id)
        self.assertEqual(self.snapshots_on_disk(volume), [stray_id])

    def write_record(self, set_id, snapshots, complete=True, context='persistent'):
        """A record in vssd's state directory, as vss-snapshot-store.c writes them."""
        sets = os.path.join(self.state_dir, 'snapshot-sets')
        os.makedirs(sets, exist_ok=True)
        lines = ['[SnapshotSet]', f'Id={set_id}', f'Context={context}',
                 f'Complete={"true" if complete else "false"}', 'CreationTime=0',
                 'Snapshots=' + ''.join(f'{sid};' for sid, _, _ in snapshots)]
        for sid, source, snapshot_path in snapshots:
            lines += ['', f'[Snapshot {sid}]', f'SourcePath={source}',
                      f'SnapshotPath={snapshot_path}', 'CreationTime=0', 'Created=true']
        with open(os.path.join(sets, f'{set_id}.set'), 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def test_hand_made_records_delete_nothing_outside_vss_snapshots(self):
        base = self.subvolume('base', {'f': b'x'})
        victims = [self.read_only_subvolume(f'{base}-victim{i}', source=base) for i in range(3)]
        self.subvolumes += victims
        decoy = self.subvolume('decoy')
        link = self.btrfs.path(os.path.basename(decoy) + '-link')
        os.symlink(decoy, link)
        self.addCleanup(os.unlink, link)
        trap_id = 'a1b2c3d4-e5f6-4789-8abc-def012345678'
        trap = self.plant_trap(decoy, trap_id)
        ids = ['11111111-2222-4333-8444-5555555555%02d' % i for i in range(5)]
        mnt = self.btrfs.mountpoint
        self.vssd.stop()
        # incomplete and backup-context sets are deleted at start: these name
        # subvolumes outside any .vss-snapshots, or reach one through a symlink
        self.write_record(ids[0], [(ids[1], base, victims[0])], complete=False)
        self.write_record(ids[2], [(ids[3], mnt, victims[1])], context='backup')
        self.write_record(ids[4], [(trap_id, link, os.path.join(link, '.vss-snapshots', trap_id))],
                          complete=False)
        # a persistent one would be listed, and deletable by an admin
        persistent_id = 'c0ffee00-1234-4567-89ab-cdef01234567'
        self.write_record(persistent_id, [(ids[0], base, victims[2])])
        self.vssd.start()
        for victim in victims:
            self.assertTrue(os.path.isdir(victim), f'{victim} was deleted')
        self.assertTrapIntact(trap)
        self.assertEqual(self.snapshot_objects(), {})
        admin = self.client()
        self.assertCallFails('ObjectNotFound', admin.delete_snapshot_set, persistent_id)
        for victim in victims:
            self.assertTrue(os.path.isdir(victim))
        self.assertStillServing()


class SnapshotDirTest(SecurityTestCase):
    """A .vss-snapshots that vssd did not make is trusted only as far as it
    would have made it: root's, reachable by nobody else (docs/design.md §5, §6a)."""

    def make_snapshot_dir(self, volume, uid=0, mode=0o700):
        snapdir = os.path.join(volume, '.vss-snapshots')
        btrfsutil.create_subvolume(snapdir)
        os.chown(snapdir, uid, uid)
        os.chmod(snapdir, mode)
        return snapdir

    def test_root_owned_snapshot_dir_open_to_others_is_made_private_first(self):
        # earlier versions, or an admin's mkdir, left these modes: the
        # snapshots below would be reachable with their source's stale permissions
        for mode in (0o755, 0o711, 0o1777):
            with self.subTest(mode=oct(mode)):
                volume = self.subvolume(f'v{mode:o}', {'secret': b'x'})
                snapdir = self.make_snapshot_dir(volume, mode=mode)
                modes = []

                def freeze(writer, event):
                    # the snapshot is taken after Freeze: it must be private by then
                    modes.append(os.stat(snapdir).st_mode & 0o7777)
                    writer.ack(event.serial)

                writer = self.writer(f'w{mode:o}', script={'Freeze': freeze})
                backup = self.requester()
                self.backup_until_prepared(backup, [volume])
                backup.DoSnapshotSet()
                self.assertEqual(modes, [0o700])
                self.assertEqual(os.stat(snapdir).st_mode & 0o7777, 0o700)
                self.assertEqual(os.stat(snapdir).st_uid, 0)
                self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
                backup.BackupComplete()
                backup.Release()
                writer.close()
                self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_snapshot_dir_of_another_uid_is_refused(self):
        self.allow('backup')
        for uid, mode in ((NOBODY_UID, 0o700), (OTHER_UID, 0o755)):
            with self.subTest(uid=uid):
                volume = self.subvolume(f'v{uid}')
                snapdir = self.make_snapshot_dir(volume, uid=uid, mode=mode)
                backup = self.requester()
                backup.InitializeForBackup()
                backup.GatherWriterMetadata()
                backup.StartSnapshotSet()
                error = self.assertCallFails('VolumeNotSupported', backup.AddToSnapshotSet,
                                             volume)
                self.assertIn(snapdir, error.message)
                self.assertEqual(backup.prop('Snapshots'), [])
                backup.Release()
                # CreateSnapshotSet checks its paths the same way
                error = self.assertCallFails(
                    'VolumeNotSupported', self.create_snapshot_set(self.client(), [volume]).wait)
                self.assertIn(snapdir, error.message)
                # nothing was put there, nor changed
                self.assertEqual(os.listdir(snapdir), [])
                self.assertEqual(os.stat(snapdir).st_uid, uid)
                self.assertEqual(os.stat(snapdir).st_mode & 0o7777, mode)
                self.assertEqual(self.records(), [])
        self.assertEqual(self.snapshot_objects(), {})

    def test_snapshot_dir_swapped_by_the_volume_owner_before_delete(self):
        # a subvolume of nobody's, such as a home directory
        volume = self.subvolume('home', {'f': b'real'})
        os.chown(volume, NOBODY_UID, NOBODY_UID)
        set_id = self.persistent_set(volume)
        [(path, props)] = self.snapshot_objects().items()
        snapshot_id = props['Id']
        [record] = self.records()
        # what the owner may do in their own directory: move vssd's
        # .vss-snapshots aside (a rename within the directory), make a
        # subvolume of their own in its place with a decoy of the snapshot's
        # name, and have vssd delete the decoy and forget the real snapshot
        aside = os.path.join(volume, 'aside')
        os.rename(os.path.join(volume, '.vss-snapshots'), aside)
        snapdir = self.make_snapshot_dir(volume, uid=NOBODY_UID, mode=0o755)
        decoy = self.read_only_subvolume(os.path.join(snapdir, snapshot_id), source=volume)
        admin = self.client()
        for what, call in (('Snapshot.Delete', lambda: admin.call(path, SNAPSHOT_IFACE, 'Delete')),
                           ('DeleteSnapshotSet', lambda: admin.delete_snapshot_set(set_id))):
            with self.subTest(what):
                error = self.assertCallFails('ProviderFailure', call)
                self.assertIn(snapdir, error.message)
                self.assertTrapIntact(decoy)
                self.assertEqual(os.listdir(aside), [snapshot_id])
                self.assertTrue(btrfsutil.is_subvolume(os.path.join(aside, snapshot_id)))
                # the set is not forgotten: its record and object stay
                self.assertEqual(self.records(), [record])
                self.assertEqual(list(self.snapshot_objects()), [path])
        # nor after a restart: a snapshot directory that vssd refuses to use is
        # no sign that the snapshot is gone, and the record is all that still
        # names the real one (listed or not until the directory is fixed)
        self.vssd.stop()
        self.vssd.start()
        self.assertEqual(self.records(), [record],
                         'after a restart vssd forgot the set whose .vss-snapshots it refuses')
        with self.assertRaises(VssError) as raised:
            admin.delete_snapshot_set(set_id)
        self.assertIn(raised.exception.name, ('ProviderFailure', 'ObjectNotFound'))
        self.assertTrapIntact(decoy)
        self.assertEqual(os.listdir(aside), [snapshot_id])
        self.assertEqual(self.records(), [record])
        # once the owner puts it back, the admin deletes the real snapshot
        btrfsutil.delete_subvolume(decoy)
        btrfsutil.delete_subvolume(snapdir)
        os.rename(aside, os.path.join(volume, '.vss-snapshots'))
        self.vssd.stop()
        self.vssd.start()
        admin = self.client()
        admin.delete_snapshot_set(set_id)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])


class StateDirTest(SecurityTestCase):
    """The records in the state directory decide what vssd deletes at start:
    --state-dir may point anywhere, so vssd checks the directory first."""

    def start_vssd(self, state_dir):
        """vssd with @state_dir, on its own: (exit status or None if it runs, output)."""
        log = os.path.join(self.tmpdir, f'vssd-{os.path.basename(state_dir)}.log')
        vssd = Vssd(self.address, state_dir, log)
        vssd.start(wait=False)
        try:
            status = vssd.process.wait(20)
        except subprocess.TimeoutExpired:
            status = None
            vssd.stop()
        return status, vssd.log()

    def test_refuses_a_state_dir_others_could_write_or_redirect(self):
        # the bus name is free for the vssd that should not start
        self.vssd.stop()
        fine = tempfile.mkdtemp(prefix='fine-', dir=self.tmpdir)
        link = os.path.join(self.tmpdir, 'state-link')
        os.symlink(fine, link)
        self.addCleanup(os.unlink, link)
        cases = [('group-writable', 0o770, 0), ('other-writable', 0o703, 0),
                 ('world-writable and sticky', 0o1777, 0),
                 ('another uid\'s', 0o700, NOBODY_UID)]
        dirs = {}
        for what, mode, uid in cases:
            path = tempfile.mkdtemp(prefix='bad-', dir=self.tmpdir)
            os.chmod(path, mode)
            os.chown(path, uid, uid)
            dirs[what] = path
        dirs['a symbolic link to a fine one'] = link
        for what, path in dirs.items():
            with self.subTest(what):
                status, output = self.start_vssd(path)
                self.assertIsNotNone(status, f'vssd started with a state directory that is {what}')
                self.assertNotEqual(status, 0, output)
                self.assertIn(path, output)
                # nothing was read or made there
                self.assertEqual(os.listdir(path), [])
        self.assertEqual(os.listdir(fine), [])

    def test_starts_with_a_state_dir_of_its_own(self):
        self.vssd.stop()
        # only writing by others matters: a readable one is fine, a missing
        # one is made (0700)
        readable = tempfile.mkdtemp(prefix='readable-', dir=self.tmpdir)
        os.chmod(readable, 0o755)
        missing = os.path.join(self.tmpdir, 'made-by-vssd')
        self.addCleanup(shutil.rmtree, missing, True)
        for path in (readable, missing):
            with self.subTest(path=path):
                vssd = Vssd(self.address, path, os.path.join(self.tmpdir, 'vssd-fine.log'))
                vssd.start()
                try:
                    self.assertStillServingAt(vssd)
                finally:
                    self.assertEqual(vssd.stop(), 0)
                self.assertEqual(os.stat(path).st_mode & 0o7777,
                                 0o755 if path == readable else 0o700)

    def assertStillServingAt(self, vssd):
        self.assertTrue(vssd.running(), vssd.log())
        client = self.client()
        self.assertTrue(client.get_property(VSS_PATH, MANAGER_IFACE, 'Version'))


class LimitsTest(SecurityTestCase):
    """One caller cannot make vssd hold without bound (README: "Security model")."""

    def register(self, client, name, options=None):
        options = dict(options or {})
        options.setdefault('paths', [self.user_path()])
        return client.call_async(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                                 variant('(sa{sv})', name, vardict(options)))

    def test_writers_per_connection(self):
        self.allow('register-writer')
        caller = self.nobody()
        paths = [self.register(caller, f'w{i}').wait() for i in range(WRITERS_PER_CONNECTION)]
        error = self.assertCallFails('LimitReached', self.register(caller, 'one too many').wait)
        self.assertIn(str(WRITERS_PER_CONNECTION), error.message)
        # another connection has its own count
        self.assertTrue(self.register(self.nobody(), 'elsewhere').wait())
        # one gone, one more
        caller.call(paths[0], WRITER_IFACE, 'Unregister')
        self.assertTrue(self.register(caller, 'again').wait())

    def test_backups_per_connection(self):
        self.allow('backup')
        caller = self.nobody()
        backups = [caller.create_backup() for _ in range(BACKUPS_PER_CONNECTION)]
        error = self.assertCallFails('LimitReached', caller.create_backup)
        self.assertIn(str(BACKUPS_PER_CONNECTION), error.message)
        self.nobody().create_backup()
        backups[0].Release()
        caller.create_backup()

    def test_user_owned_backups_per_uid(self):
        self.allow('backup')
        first, second = self.nobody(), self.nobody()
        for i in range(USER_BACKUPS_PER_UID):
            (first if i % 2 else second).create_backup({'owner': 'user'})
        # they outlive their connections, so the bound is per uid
        first.close()
        error = self.assertCallFails('LimitReached', self.nobody().create_backup,
                                     {'owner': 'user'})
        self.assertIn(str(USER_BACKUPS_PER_UID), error.message)
        # other uids, and connection-owned objects, are not counted
        self.client(uid=OTHER_UID).create_backup({'owner': 'user'})
        self.nobody().create_backup()

    def test_volumes_per_set_even_for_ten_thousand(self):
        volumes = [self.subvolume(f'v{i}') for i in range(VOLUMES_PER_SET)]
        backup = self.requester()
        backup.InitializeForBackup()
        backup.GatherWriterMetadata()
        backup.StartSnapshotSet()
        for volume in volumes:
            backup.AddToSnapshotSet(volume)
        # 10 000 more, sent at once: each refused without touching the disk
        extra = self.subvolume('extra')
        calls = [backup.call_async('AddToSnapshotSet', '(s)', extra) for _ in range(10000)]
        iterate_until(lambda: all(c.done for c in calls), timeout=100, what='10 000 replies')
        self.assertEqual({c.error.name if c.error else None for c in calls}, {'LimitReached'})
        self.assertIn(str(VOLUMES_PER_SET), calls[0].error.message)
        self.assertFalse(os.path.exists(os.path.join(extra, '.vss-snapshots')))
        self.assertEqual(backup.state, 'snapshot-set-started')
        self.assertStillServing()

    def test_pending_events_per_writer(self):
        silent = self.writer('silent', options={'event-timeout-ms': 20000},
                             script={'Identify': 'hang'})
        quick = self.writer('quick')
        # three requesters, each with as many backups as one connection may have
        connections = [self.client() for _ in range(3)]
        backups = [connections[i // BACKUPS_PER_CONNECTION].create_backup()
                   for i in range(PENDING_EVENTS_PER_WRITER + 1)]
        pending = []
        for backup in backups[:PENDING_EVENTS_PER_WRITER]:
            backup.InitializeForBackup()
            pending.append(backup.call_async('GatherWriterMetadata'))
        silent.wait_for('Identify', count=PENDING_EVENTS_PER_WRITER)
        last = backups[-1]
        last.InitializeForBackup()
        # the writer that does not answer gets no more; the call goes on without it
        [(path, name, _)] = last.GatherWriterMetadata()
        self.assertEqual((path, name), (quick.path, 'quick'))
        spin(0.2)
        self.assertEqual(silent.count('Identify'), PENDING_EVENTS_PER_WRITER)
        self.assertEqual(quick.count('Identify'), PENDING_EVENTS_PER_WRITER + 1)
        self.assertIn('LimitReached', self.vssd.log())
        # the writer answers: the others go on, and it gets events again
        silent.script['Identify'] = 'ack'
        for event in silent.pending:
            silent.ack(event.serial)
        for call in pending:
            self.assertEqual(len(call.wait()), 2)
        fresh = self.requester()
        fresh.InitializeForBackup()
        self.assertEqual(len(fresh.GatherWriterMetadata()), 2)

    def test_name_and_metadata_sizes(self):
        name_max = LIMITS['VSS_WRITER_NAME_MAX']
        paths_max = LIMITS['VSS_WRITER_PATHS_MAX']
        path_length_max = LIMITS['VSS_WRITER_PATH_LENGTH_MAX']
        metadata_max = LIMITS['VSS_WRITER_METADATA_MAX']
        caller = self.client()
        # characters, not bytes
        self.assertTrue(self.register(caller, 'é' * name_max).wait())
        self.assertCallFails('LimitReached', self.register(caller, 'n' * (name_max + 1)).wait)
        self.assertTrue(self.register(caller, 'w', {
            'paths': [f'/p{i}' for i in range(paths_max)]}).wait())
        self.assertCallFails('LimitReached', self.register(caller, 'w', {
            'paths': [f'/p{i}' for i in range(paths_max + 1)]}).wait)
        self.assertCallFails('LimitReached', self.register(caller, 'w', {
            'paths': ['/' + 'p' * path_length_max]}).wait)
        writer = self.writer('w')
        self.assertCallFails('LimitReached', writer.call, writer.path, WRITER_IFACE,
                             'SetMetadata', variant('(a{sv})', vardict({'b': 'b' * metadata_max})))
        writer.call(writer.path, WRITER_IFACE, 'SetMetadata',
                    variant('(a{sv})', vardict({'b': 'b' * (metadata_max - 1000)})))
        # a failure message past its limit: the writer is told, and may Fail again
        caller.close()
        iterate_until(lambda: len(self.objects_of('Writer')) == 1, what='the others to go')
        backup = self.requester()
        backup.InitializeForBackup()
        writer.script['Identify'] = 'hang'
        pending = backup.call_async('GatherWriterMetadata')
        serial = writer.wait_for('Identify').serial
        message_max = LIMITS['VSS_WRITER_FAILURE_MESSAGE_MAX']
        self.assertEqual(writer.fail(serial, 'retryable', 'm' * (message_max + 1)).error_name(),
                         'LimitReached')
        self.assertIsNone(writer.fail(serial, 'retryable', 'm' * message_max).error_name())
        self.assertEqual(pending.wait(), [])

    def test_registration_paths_count_toward_the_metadata_bound(self):
        caller = self.client()
        # 256 paths of 300 bytes: each path and their number within their own
        # limits, together past the one bound on what a writer's metadata holds
        too_much = [f'/srv/{i:03d}/' + 'p' * 291 for i in range(256)]
        self.assertGreater(sum(len(p) for p in too_much), METADATA_MAX)
        error = self.assertCallFails('LimitReached', self.register(caller, 'big', {
            'paths': too_much}).wait)
        self.assertIn(str(METADATA_MAX), error.message)
        self.assertEqual(self.objects_of('Writer'), [])
        # what is left of the bound after the paths is what SetMetadata may add
        paths = [f'/srv/{i:03d}/' + 'p' * 200 for i in range(256)]
        writer = self.writer('w', options={'paths': paths})
        room = METADATA_MAX - sum(len(p) for p in paths)
        self.assertCallFails('LimitReached', writer.call, writer.path, WRITER_IFACE,
                             'SetMetadata', variant('(a{sv})', vardict({'d': 'd' * room})))
        writer.call(writer.path, WRITER_IFACE, 'SetMetadata',
                    variant('(a{sv})', vardict({'d': 'd' * (room - 8192)})))

    def test_writers_per_uid_over_all_its_connections(self):
        self.allow('register-writer')
        connections = [self.nobody() for _ in range(WRITERS_PER_UID // WRITERS_PER_CONNECTION)]
        calls = self.calls_in_turn(
            [[lambda c=c, i=i: self.register(c, f'w{i}') for i in range(WRITERS_PER_CONNECTION)]
             for c in connections])
        paths = [call.wait() for call in calls]
        # connections are cheap: a new one does not start a new count
        error = self.assertCallFails('LimitReached', self.register(self.nobody(), 'more').wait)
        self.assertIn(f'uid {NOBODY_UID}', error.message)
        self.assertIn(str(WRITERS_PER_UID), error.message)
        self.assertEqual(len(self.objects_of('Writer')), WRITERS_PER_UID)
        # other uids have their own count; root has none
        other = self.client(uid=OTHER_UID)
        self.assertTrue(self.register(other, 'other', {'paths': [self.user_path(OTHER_UID)]})
                        .wait())
        self.assertTrue(self.register(self.client(), 'root').wait())
        # one gone, one more
        connections[0].call(paths[0], WRITER_IFACE, 'Unregister')
        self.assertTrue(self.register(self.nobody(), 'again').wait())

    def test_writers_in_total(self):
        # as root, which has no per-uid bound: only the total stops it
        connections = [self.client() for _ in range(WRITERS_TOTAL // WRITERS_PER_CONNECTION)]
        calls = self.calls_in_turn(
            [[lambda c=c, i=i: self.register_writer(c, f'w{i}')
              for i in range(WRITERS_PER_CONNECTION)] for c in connections])
        self.assertEqual([c.error for c in calls if c.error is not None], [])
        for caller in (self.client(), self.client(uid=NOBODY_UID)):
            self.allow('register-writer')
            error = self.assertCallFails(
                'LimitReached', self.register(caller, 'one too many').wait)
            self.assertIn(str(WRITERS_TOTAL), error.message)
        self.assertStillServing()
        # 64 go with their connection: there is room again
        connections[0].close()
        iterate_until(lambda: len(self.objects_of('Writer')) < WRITERS_TOTAL,
                      what='the writers of a closed connection to go')
        self.assertTrue(self.register(self.client(), 'again').wait())

    def test_metadata_reply_past_the_bound_keeps_vssd_on_the_bus(self):
        volume = self.subvolume('data')
        # a backup in progress, its writer frozen
        frozen = self.writer('frozen', script={'Freeze': 'hang'})
        busy = self.requester()
        self.backup_until_prepared(busy, [volume])
        snapshotting = busy.call_async('DoSnapshotSet')
        freeze = frozen.wait_for('Freeze')
        # writers whose registration alone is nearly the metadata bound, as
        # many as make a GatherWriterMetadata reply bigger than the bus takes:
        # without the bound on replies, the bus disconnects vssd for it, and
        # the frozen writer is never thawed
        paths = [f'/srv/{i:03d}/' + 'p' * 240 for i in range(256)]
        per_writer = sum(len(p) + 5 for p in paths)
        self.assertLess(per_writer, METADATA_MAX)
        n_writers = max(REPLY_SIZE_MAX, BUS_MESSAGE_MAX) // per_writer + 16
        pools = [self.writer_pool()
                 for _ in range(0, n_writers, WRITERS_PER_CONNECTION)]
        calls = self.calls_in_turn(
            [[lambda p=pool, i=i: p.register(f'big{i}', {'paths': paths})
              for i in range(k, min(n_writers, k + WRITERS_PER_CONNECTION))]
             for pool, k in zip(pools, range(0, n_writers, WRITERS_PER_CONNECTION))])
        self.assertEqual([c.error for c in calls if c.error is not None], [])
        gatherer = self.requester()
        gatherer.InitializeForBackup()
        error = self.assertCallFails('LimitReached', gatherer.GatherWriterMetadata)
        self.assertIn('GatherWriterMetadata', error.message)
        self.assertIn(str(REPLY_SIZE_MAX), error.message)
        self.assertStillServing()
        # the backup in progress goes on: its writer is thawed as always
        self.assertFalse(snapshotting.done)
        frozen.ack(freeze.serial)
        snapshotting.wait()
        self.assertEqual(frozen.names()[-2:], ['Thaw', 'PostSnapshot'])
        busy.BackupComplete()
        busy.Release()
        # with fewer writers (half the bound's worth) the reply fits again
        for pool in pools[REPLY_SIZE_MAX // 2 // (per_writer * WRITERS_PER_CONNECTION):]:
            pool.close()
        iterate_until(lambda: len(self.objects_of('Writer')) * per_writer < REPLY_SIZE_MAX,
                      what='the writers to go')
        again = self.requester()
        again.InitializeForBackup()
        self.assertEqual(len(again.GatherWriterMetadata()), len(self.objects_of('Writer')))

    def make_persistent_sets(self, caller, volume, count):
        """@count persistent sets of @volume by @caller, one after another
        (rule 10); their ids."""
        return [self.create_snapshot_set(caller, [volume], {'writers': False}).wait()[0]
                for _ in range(count)]

    def test_persistent_sets_per_uid(self):
        self.allow('backup', 'manage-snapshots')
        volume = self.subvolume('home')
        caller = self.nobody()
        set_ids = self.make_persistent_sets(caller, volume, PERSISTENT_SETS_PER_UID)
        # they outlive every connection: another one of the uid counts them
        caller = self.nobody()
        error = self.assertCallFails('LimitReached', self.create_snapshot_set(
            caller, [volume], {'writers': False}).wait)
        self.assertIn(f'uid {NOBODY_UID}', error.message)
        self.assertIn(str(PERSISTENT_SETS_PER_UID), error.message)
        self.assertEqual(len(self.records()), PERSISTENT_SETS_PER_UID)
        self.assertEqual(len(self.snapshots_on_disk(volume)), PERSISTENT_SETS_PER_UID)
        # a set of context backup goes with its connection: not counted
        self.create_snapshot_set(caller, [volume], {'context': 'backup', 'writers': False}).wait()
        # nor are other uids' sets, and root has no bound
        self.make_persistent_sets(self.client(uid=OTHER_UID), volume, 1)
        self.make_persistent_sets(self.client(), volume, 1)
        # the records say who made each set: the count holds over a restart
        self.vssd.stop()
        self.vssd.start()
        caller = self.nobody()
        self.assertCallFails('LimitReached', self.create_snapshot_set(
            caller, [volume], {'writers': False}).wait)
        # one deleted, one more
        caller.delete_snapshot_set(set_ids[0])
        self.make_persistent_sets(caller, volume, 1)
        self.assertCallFails('LimitReached', self.create_snapshot_set(
            caller, [volume], {'writers': False}).wait)

    def test_persistent_sets_per_uid_through_backup_components_too(self):
        # the bound is on what a uid keeps, however it made it: the long form
        # (SetContext persistent, DoSnapshotSet) makes the same sets
        self.allow('backup')
        volume = self.subvolume('home')
        self.make_persistent_sets(self.nobody(), volume, PERSISTENT_SETS_PER_UID)
        backup = self.requester(uid=NOBODY_UID)
        steps = [('InitializeForBackup', ()), ('SetContext', ('(s)', 'persistent')),
                 ('GatherWriterMetadata', ()), ('StartSnapshotSet', ()),
                 ('AddToSnapshotSet', ('(s)', volume)), ('PrepareForBackup', ()),
                 ('DoSnapshotSet', ())]
        error = None
        for method, args in steps:
            try:
                backup.call(method, *args)
            except VssError as e:
                error = e
                break
        self.assertIsNotNone(error, f'uid {NOBODY_UID} made persistent set number '
                             f'{PERSISTENT_SETS_PER_UID + 1} with BackupComponents')
        self.assertEqual(error.name, 'LimitReached', f'{method}: {error}')
        self.assertIn(f'uid {NOBODY_UID}', error.message)
        self.assertEqual(len(self.records()), PERSISTENT_SETS_PER_UID)
        self.assertEqual(len(self.snapshots_on_disk(volume)), PERSISTENT_SETS_PER_UID)


class SetLockTest(SecurityTestCase):
    """No requester holds the snapshot-set lock (rule 10) by saying nothing."""

    def test_silent_holder_of_the_set_lock_is_released(self):
        self.allow('backup')
        writer = self.writer('w')
        # one past DoSnapshotSet: it holds no lock, and its copy phase may
        # take as long as it takes
        copying = self.requester(uid=NOBODY_UID, options={'idle-timeout-s': IDLE_TIMEOUT_MIN_S})
        self.backup_until_prepared(copying, [self.subvolume('copied')])
        copying.DoSnapshotSet()
        # one that holds the lock, owned by its connection, and goes silent
        volume = self.subvolume('held')
        holder = self.requester(uid=NOBODY_UID, options={'idle-timeout-s': IDLE_TIMEOUT_MIN_S})
        self.backup_until_prepared(holder, [volume])
        silent_since = time.monotonic()
        other = self.requester()
        other.InitializeForBackup()
        other.GatherWriterMetadata()
        self.assertCallFails('SnapshotSetInProgress', other.StartSnapshotSet)
        # its silence counts as a disconnect (rule 8): aborted, then shut down
        iterate_until(lambda: writer.count('BackupShutdown') == 1,
                      timeout=IDLE_TIMEOUT_MIN_S + 10, what='the silent holder to be released')
        self.assertGreaterEqual(time.monotonic() - silent_since, IDLE_TIMEOUT_MIN_S - 1)
        self.assertEqual([e.name for e in writer.events if e.backup == holder.path],
                         ['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'])
        self.assertNotIn(holder.path, self.objects_of('BackupComponents'))
        self.assertEqual(self.snapshots_on_disk(volume), [])
        # the lock is free for the others
        other.StartSnapshotSet()
        # the one that held no lock was as silent, and is still there
        self.assertEqual(copying.state, 'snapshot-created')
        copying.BackupComplete()
        copying.Release()


class HostileInputTest(SecurityTestCase):
    """Each malformed or oversized call ends in a clear error, and vssd serves on."""

    def setUp(self):
        super().setUp()
        self.allow(*ACTIONS)
        self.volume = self.subvolume('v')
        # a snapshot to Open, of another subvolume
        self.persistent_set(self.subvolume('kept'))
        [self.snapshot_path] = self.snapshot_objects()
        self.kept_records = self.records()
        # the same subvolume through a symbolic link, and through a linked directory
        self.link = self.btrfs.path('hostile-link')
        os.symlink(self.volume, self.link)
        self.addCleanup(os.unlink, self.link)
        self.linked_dir = self.btrfs.path('hostile-dir')
        os.symlink(self.btrfs.mountpoint, self.linked_dir)
        self.addCleanup(os.unlink, self.linked_dir)
        self.hostile = self.nobody()
        self.backup = self.hostile.create_backup()
        self.backup.InitializeForBackup()
        # one backup further on, for AddToSnapshotSet (before the writer that hangs)
        self.started = self.hostile.create_backup()
        self.started.InitializeForBackup()
        self.started.GatherWriterMetadata()
        self.started.StartSnapshotSet()
        self.writer_obj = self.writer('target', options={'paths': [self.user_path()]},
                                      script={'Identify': 'hang'}, uid=NOBODY_UID)
        admin = self.requester()
        admin.InitializeForBackup()
        self.gather = admin.call_async('GatherWriterMetadata')
        self.serial = self.writer_obj.wait_for('Identify').serial

    def rows(self):
        """(what, path, interface, method, arguments, expected error)."""
        backup, started, writer = self.backup.path, self.started.path, self.writer_obj.path
        mib = 1 << 20
        invalid_args = 'org.freedesktop.DBus.Error.InvalidArgs'
        unknown = {'org.freedesktop.DBus.Error.UnknownMethod',
                   'org.freedesktop.DBus.Error.UnknownObject',
                   'org.freedesktop.DBus.Error.UnknownInterface'}
        m, b, w = MANAGER_IFACE, BACKUP_IFACE, WRITER_IFACE
        cut_utf8 = 'a' + 'é' * 100  # 64 bytes in, a character is cut in two
        return [
            # wrong types and arities: GDBus refuses them before vssd sees them
            ('RegisterWriter(ss)', VSS_PATH, m, 'RegisterWriter', variant('(ss)', 'w', 'x'),
             invalid_args),
            ('RegisterWriter(s)', VSS_PATH, m, 'RegisterWriter', variant('(s)', 'w'),
             invalid_args),
            ('CreateBackupComponents(a{ss})', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{ss})', {'owner': 'user'}), invalid_args),
            ('CreateBackupComponents(a{sv}s)', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv}s)', {}, 'extra'), invalid_args),
            ('DeleteSnapshotSet(i)', VSS_PATH, m, 'DeleteSnapshotSet', variant('(i)', 1),
             invalid_args),
            ('AddToSnapshotSet(as)', started, b, 'AddToSnapshotSet', variant('(as)', ['/']),
             invalid_args),
            ('SetContext()', backup, b, 'SetContext', None, invalid_args),
            ('Ack(s)', writer, w, 'Ack', variant('(s)', '1'), invalid_args),
            ('Ack(u)', writer, w, 'Ack', variant('(u)', 1), invalid_args),
            ('Fail(ts)', writer, w, 'Fail', variant('(ts)', 1, 'retryable'), invalid_args),
            ('SetMetadata(a{ss})', writer, w, 'SetMetadata', variant('(a{ss})', {'a': 'b'}),
             invalid_args),
            ('Properties.Set(Version)', VSS_PATH, 'org.freedesktop.DBus.Properties', 'Set',
             variant('(ssv)', m, 'Version', GLib.Variant('s', '99')), invalid_args),
            # objects and methods that do not exist
            ('no such backup', VSS_PATH + '/BackupComponents/999999', b, 'Release', None,
             unknown),
            ('no such writer', VSS_PATH + '/Writer/0', w, 'Ack', variant('(t)', 1), unknown),
            ('no such snapshot', VSS_PATH + '/Snapshot/not_a_snapshot', SNAPSHOT_IFACE,
             'Delete', None, unknown),
            ('no such method', VSS_PATH, m, 'Frobnicate', None, unknown),
            # huge strings
            ('1 MiB writer name', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'x' * mib, {}), 'LimitReached'),
            ('1 MiB path', started, b, 'AddToSnapshotSet', variant('(s)', '/' + 'p' * mib),
             'InvalidArgument'),
            ('1 MiB context', backup, b, 'SetContext', variant('(s)', 'c' * mib),
             'InvalidArgument'),
            ('1 MiB set id', VSS_PATH, m, 'DeleteSnapshotSet', variant('(s)', 'i' * mib),
             'InvalidArgument'),
            ('1 MiB failure message', writer, w, 'Fail',
             variant('(tss)', self.serial, 'retryable', 'm' * mib), 'LimitReached'),
            ('1 MiB failure name', writer, w, 'Fail',
             variant('(tss)', self.serial, 'f' * mib, ''), 'InvalidArgument'),
            ('1 MiB option name', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', {'o' * mib: GLib.Variant('b', True)}), 'InvalidArgument'),
            # quoted back in an error message: cut on a character, never in one
            ('context cut in a character', backup, b, 'SetContext', variant('(s)', cut_utf8),
             'InvalidArgument'),
            ('option cut in a character', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', {cut_utf8: GLib.Variant('b', True)}), 'InvalidArgument'),
            ('set id cut in a character', VSS_PATH, m, 'DeleteSnapshotSet',
             variant('(s)', cut_utf8), 'InvalidArgument'),
            # unknown options and options of the wrong type
            ('unknown backup option', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', vardict({'colour': 'red'})), 'InvalidArgument'),
            ('unknown writer option', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', vardict({'priority': 1})), 'InvalidArgument'),
            ('owner of type u', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', {'owner': GLib.Variant('u', 1)}), 'InvalidArgument'),
            ('idle timeout 0', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', vardict({'owner': 'user', 'idle-timeout-s': 0})),
             'InvalidArgument'),
            ('freeze timeout of type i', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', {'freeze-timeout-ms': GLib.Variant('i', -1)}),
             'InvalidArgument'),
            ('class-id of type u', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', {'class-id': GLib.Variant('u', 7)}), 'InvalidArgument'),
            ('paths of type s', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', {'paths': GLib.Variant('s', '/srv')}), 'InvalidArgument'),
            # control characters and look-alikes
            ('writer name with ESC', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'db\x1b[2J', {}), 'InvalidArgument'),
            ('writer name with RLO', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'db\u202egpj.exe', {}), 'InvalidArgument'),
            ('writer path with a newline', VSS_PATH, m, 'RegisterWriter',
             variant('(sa{sv})', 'w', vardict({'paths': ['/srv\n/etc']})), 'InvalidArgument'),
            ('volume path with a newline', started, b, 'AddToSnapshotSet',
             variant('(s)', self.volume + '\n'), 'InvalidArgument'),
            ('context with a tab', backup, b, 'SetContext', variant('(s)', 'backup\t'),
             'InvalidArgument'),
            ('set id with ../', VSS_PATH, m, 'DeleteSnapshotSet', variant('(s)', '../../etc'),
             'InvalidArgument'),
            # serials and metadata a writer has no business sending
            ('Ack of serial 0', writer, w, 'Ack', variant('(t)', 0), 'InvalidArgument'),
            ('Ack of serial 2^64-1', writer, w, 'Ack', variant('(t)', 2**64 - 1),
             'InvalidArgument'),
            ('metadata with class-id', writer, w, 'SetMetadata',
             variant('(a{sv})', vardict({'class-id': '8f4e3a4e-55b7-4a8e-a0a0-3d6f6a1c2b10'})),
             'InvalidArgument'),
            ('128 KiB metadata', writer, w, 'SetMetadata',
             variant('(a{sv})', vardict({'x': 'y' * (128 << 10)})), 'LimitReached'),
            # idle-timeout-s is 10 to 3600 s for both owner kinds
            ('idle timeout 9', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', vardict({'idle-timeout-s': 9})), 'InvalidArgument',
             'idle-timeout-s'),
            ('idle timeout 3601', VSS_PATH, m, 'CreateBackupComponents',
             variant('(a{sv})', vardict({'owner': 'connection', 'idle-timeout-s': 3601})),
             'InvalidArgument', 'idle-timeout-s'),
        ] + self.create_snapshot_set_rows() + [
            # Snapshot.Open takes no option yet
            ('Open with an unknown option', self.snapshot_path, SNAPSHOT_IFACE, 'Open',
             variant('(a{sv})', vardict({'colour': 'red'})), 'InvalidArgument', 'colour'),
            ('Open(s)', self.snapshot_path, SNAPSHOT_IFACE, 'Open', variant('(s)', 'x'),
             invalid_args),
        ]

    def create_snapshot_set_rows(self):
        """CreateSnapshotSet's bad input: (what, ..., expected error, what the
        message names); checked before anything is made (docs/design.md §4b)."""
        volume, base = self.volume, os.path.basename(self.volume)
        mnt = self.btrfs.mountpoint

        def row(what, paths, options, expected, names):
            return (f'CreateSnapshotSet {what}', VSS_PATH, MANAGER_IFACE, 'CreateSnapshotSet',
                    variant('(asa{sv})', paths, vardict(options)), expected, names)

        return [
            row('of no path', [], {}, 'InvalidArgument', 'path'),
            row('of one path twice', [volume, volume], {}, 'InvalidArgument', volume),
            row(f'of {VOLUMES_PER_SET + 1} paths', [volume] * (VOLUMES_PER_SET + 1), {},
                'LimitReached', str(VOLUMES_PER_SET)),
            row('with an unknown option', [volume], {'colour': 'red'}, 'InvalidArgument',
                'colour'),
            row('with writers of type s', [volume], {'writers': GLib.Variant('s', 'no')},
                'InvalidArgument', 'writers'),
            row('with context of type b', [volume], {'context': GLib.Variant('b', True)},
                'InvalidArgument', 'context'),
            row('with an unknown context', [volume], {'context': 'forever'},
                'InvalidArgument', 'forever'),
            row('with a 257-byte description', [volume], {'description': 'é' * 128 + 'd'},
                'InvalidArgument', 'description'),
            row('with ESC in the description', [volume], {'description': 'a\x1b[2Jb'},
                'InvalidArgument', 'description'),
            row('of a relative path', [os.path.relpath(volume, '/')], {}, 'InvalidArgument',
                os.path.relpath(volume, '/')[:40]),
            row('of a path with ..', [f'{mnt}/../mnt/{base}'], {}, 'InvalidArgument', '..'),
            row('of a path with .', [f'{mnt}/./{base}'], {}, 'InvalidArgument', '/./'),
            row('of a path with //', [f'{mnt}//{base}'], {}, 'InvalidArgument', '//'),
            row('of a path with a trailing /', [volume + '/'], {}, 'InvalidArgument',
                base),
            row('of a symbolic link to a subvolume', [self.link], {}, 'InvalidArgument',
                self.link),
            row('through a linked directory', [f'{self.linked_dir}/{base}'], {},
                'InvalidArgument', self.linked_dir),
            row('of a good path and a linked one', [volume, self.link], {}, 'InvalidArgument',
                self.link),
        ]

    def test_hostile_input_table(self):
        rows = self.rows()
        self.assertGreaterEqual(len(rows), 30)
        for what, path, interface, method, args, expected, *names in rows:
            # each object's own (hostile) owner sends: ownership is tested elsewhere
            caller = self.writer_obj if path == self.writer_obj.path else self.hostile
            with self.subTest(what):
                got, message = None, ''
                try:
                    caller.call(path, interface, method, args)
                except VssError as e:
                    # the short name of vss errors, the D-Bus name of others
                    got, message = e.name, e.message
                if isinstance(expected, set):
                    self.assertIn(got, expected)
                else:
                    self.assertEqual(got, expected, message if got else 'call succeeded')
                    # a clear error: it says what, and is no echo of a megabyte
                    self.assertTrue(message)
                    self.assertLess(len(message), 1000)
                    # and which: the path or the option
                    for name in names:
                        self.assertIn(name, message)
                self.assertStillServing()
        # nothing was made or changed by any of it
        self.assertEqual(self.records(), self.kept_records)
        self.assertEqual(list(self.snapshot_objects()), [self.snapshot_path])
        self.assertEqual(self.backup.state, 'initialized')
        self.assertEqual(self.started.state, 'snapshot-set-started')
        self.assertEqual(self.started.prop('Snapshots'), [])
        self.assertEqual(self.objects_of('Writer'), [self.writer_obj.path])
        self.assertFalse(os.path.exists(os.path.join(self.volume, '.vss-snapshots')))
        self.assertFalse(self.gather.done)
        self.writer_obj.ack(self.serial)
        self.assertEqual(len(self.gather.wait()), 1)
        self.assertNotIn('CRITICAL', self.vssd.log())

    def test_flooding_register_writer(self):
        caller = self.nobody()
        paths = vardict({'paths': [self.user_path()]})
        calls = [caller.call_async(VSS_PATH, MANAGER_IFACE, 'RegisterWriter',
                                   variant('(sa{sv})', f'flood{i}', paths)) for i in range(500)]
        # others are served while the flood is under way
        self.assertStillServing()
        iterate_until(lambda: all(c.done for c in calls), what='500 replies')
        errors = [c.error.name if c.error else None for c in calls]
        # bounded twice: calls waiting for authorization per connection, and
        # writers per connection; every other call is a LimitReached
        registered = errors.count(None)
        self.assertLessEqual(registered, WRITERS_PER_CONNECTION)
        self.assertGreater(registered, 0)
        self.assertEqual(errors.count('LimitReached'), 500 - registered)
        self.assertEqual(len(self.objects_of('Writer')), registered + 1)
        # and they go with their connection
        caller.close()
        iterate_until(lambda: len(self.objects_of('Writer')) == 1, what='the flood to go')
        self.assertStillServing()

    def test_control_characters_in_a_failure_message_are_replaced(self):
        self.writer_obj.fail(self.serial, 'retryable', 'disk\x1b[31m full\r\nretry\tlater')
        self.gather.wait()
        message = self.writer_obj.prop('FailureMessage')
        self.assertEqual(message, 'disk\ufffd[31m full\ufffd\nretry\tlater')
        self.assertEqual(self.writer_obj.prop('State'), 'failed-at-identify')


class DocumentationTest(unittest.TestCase):
    """The README's "Security model" says what the code does."""

    def section(self):
        with open(os.path.join(SRCDIR, 'README.md')) as f:
            readme = f.read()
        match = re.search(r'^## Security model\n(.*?)(?=^## |\Z)', readme, re.M | re.S)
        self.assertIsNotNone(match, 'README.md has no "Security model" section')
        return match.group(1)

    def test_names_the_actions_and_the_ownership_rule(self):
        section = self.section()
        for action_id in ACTIONS.values():
            self.assertIn(f'`{action_id}`', section)
        self.assertIn('Ownership rule', section)
        self.assertIn('NotAuthorized', section)

    def test_names_every_limit_with_its_value(self):
        rows = re.findall(r'^  \| (.+?) \| (\d+)[^|]*\| (.+?) \|$', self.section(), re.M)
        values = sorted(int(value) for _, value, _ in rows)
        limits = ['VSS_LIMIT_WRITERS_PER_CONNECTION', 'VSS_LIMIT_WRITERS_PER_UID',
                  'VSS_LIMIT_WRITERS_TOTAL', 'VSS_LIMIT_BACKUPS_PER_CONNECTION',
                  'VSS_LIMIT_USER_BACKUPS_PER_UID', 'VSS_LIMIT_PERSISTENT_SETS_PER_UID',
                  'VSS_SNAPSHOT_SET_MAX_VOLUMES', 'VSS_WRITER_PENDING_EVENTS_MAX',
                  'VSS_LIMIT_CALLS_IN_FLIGHT_PER_CONNECTION', 'VSS_WRITER_NAME_MAX',
                  'VSS_WRITER_FAILURE_MESSAGE_MAX', 'VSS_WRITER_PATHS_MAX',
                  'VSS_SNAPSHOT_SET_DESCRIPTION_MAX']
        in_units = [LIMITS['VSS_WRITER_METADATA_MAX'] // 1024,  # KiB
                    LIMITS['VSS_REPLY_SIZE_MAX'] >> 20,  # MiB
                    LIMITS['VSS_WRITER_BACKUP_FILES_MAX_BYTES'] >> 30]  # GiB
        self.assertEqual(values, sorted([LIMITS[n] for n in limits] + in_units))

    def test_every_test_it_names_exists(self):
        section = self.section()
        # `Class.test_name`, in tests/test_security.py unless a file is named
        # just before: `test_scoping.py`: `Class.test_name`
        named = re.findall(r'(?:`(test_\w+)\.py`:\s+)?`([A-Z]\w*Test)\.(test_\w+)`', section)
        self.assertGreaterEqual(len(named), 30)
        sources = {}
        for module, test_class, method in named:
            module = module or 'test_security'
            if module not in sources:
                with open(os.path.join(SRCDIR, 'tests', module + '.py')) as f:
                    sources[module] = f.read()
            body = re.search(rf'^class {test_class}\(.*?(?=^class |\Z)', sources[module],
                             re.M | re.S)
            with self.subTest(f'{module}.{test_class}.{method}'):
                self.assertIsNotNone(body, f'no class {test_class} in {module}.py')
                self.assertTrue(re.search(rf'^    def {method}\(self', body.group(0), re.M),
                                f'no {test_class}.{method} in {module}.py')


class PolicyFileTest(unittest.TestCase):
    """polkit/org.freedesktop.vss1.policy as polkitd reads it."""

    POLICY = os.path.join(SRCDIR, 'polkit', 'org.freedesktop.vss1.policy')
    DTD = '/usr/share/polkit-1/policyconfig-1.dtd'

    def test_validates_against_the_polkit_dtd(self):
        if shutil.which('xmllint') is None or not os.path.exists(self.DTD):
            self.skipTest('xmllint or the polkit DTD is missing (libxml2-utils, polkitd)')
        result = subprocess.run(['xmllint', '--noout', '--dtdvalid', self.DTD, self.POLICY],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_actions_and_defaults(self):
        root = ElementTree.parse(self.POLICY).getroot()
        defaults = {}
        for action in root.findall('action'):
            d = action.find('defaults')
            defaults[action.get('id')] = (d.findtext('allow_any'), d.findtext('allow_inactive'),
                                          d.findtext('allow_active'))
            # translatable: polkitd looks the text up in the "vss" domain
            for tag in ('description', 'message'):
                self.assertEqual(action.find(tag).get('gettext-domain'), 'vss')
                self.assertTrue(action.findtext(tag).strip())
        self.assertEqual(defaults, {
            ACTIONS['backup']: ('auth_admin', 'auth_admin', 'auth_admin_keep'),
            ACTIONS['restore']: ('auth_admin', 'auth_admin', 'auth_admin'),
            ACTIONS['register-writer']: ('auth_admin', 'auth_admin', 'yes'),
            ACTIONS['manage-snapshots']: ('auth_admin', 'auth_admin', 'auth_admin_keep'),
        })

    def test_the_service_asks_for_these_actions(self):
        with open(os.path.join(SRCDIR, 'service', 'vss-authority.h')) as f:
            header = f.read()
        self.assertEqual(set(re.findall(r'"(org\.freedesktop\.vss1\.[a-z-]+)"', header)),
                         set(ACTIONS.values()))


class SystemdUnitTest(unittest.TestCase):
    """dbus/vssd.service as installed, and the activation file naming it."""

    def unit_path(self, name):
        build_root = os.environ.get('VSS_BUILD_ROOT')
        if build_root and os.path.exists(os.path.join(build_root, 'dbus', name)):
            return os.path.join(build_root, 'dbus', name)
        return os.path.join(SRCDIR, 'dbus', name + '.in')

    def directives(self, name):
        """{key: [values]} of a unit file; keys may repeat."""
        result = {}
        with open(self.unit_path(name)) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith(('#', ';', '[')):
                    continue
                key, _, value = line.partition('=')
                result.setdefault(key.strip(), []).append(value.strip())
        return result

    def test_hardening_directives(self):
        unit = self.directives('vssd.service')
        one = {key: values[-1] for key, values in unit.items()}
        self.assertEqual(one['Type'], 'dbus')
        self.assertEqual(one['BusName'], VSS_NAME)
        self.assertIn(one['ProtectSystem'], ('strict', 'full'))
        # snapshots are made inside the subvolumes, so nothing may undo that again
        self.assertNotIn('/', unit.get('ReadWritePaths', []))
        self.assertIn('ProtectHome', one)
        for key in ('PrivateTmp', 'PrivateDevices', 'PrivateNetwork', 'NoNewPrivileges',
                    'ProtectKernelModules', 'ProtectKernelTunables', 'ProtectControlGroups',
                    'RestrictSUIDSGID', 'MemoryDenyWriteExecute', 'LockPersonality'):
            self.assertEqual(one.get(key), 'yes', key)
        self.assertEqual(set(one['CapabilityBoundingSet'].split()),
                         {'CAP_SYS_ADMIN', 'CAP_FOWNER', 'CAP_DAC_OVERRIDE'})
        self.assertEqual(one['RestrictAddressFamilies'], 'AF_UNIX')
        filters = ' '.join(unit['SystemCallFilter'])
        self.assertIn('@system-service', filters)
        self.assertIn('~@privileged', filters)
        self.assertEqual(one['UMask'], '0077')

    def test_memory_and_tasks_are_bounded(self):
        one = {key: values[-1] for key, values in self.directives('vssd.service').items()}
        units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}
        match = re.fullmatch(r'(\d+)([KMGT]?)', one.get('MemoryMax', ''))
        self.assertIsNotNone(match, f'MemoryMax={one.get("MemoryMax")}: not a size')
        memory_max = int(match.group(1)) * units.get(match.group(2), 1)
        # room for the worst case the limits allow: every writer's metadata
        # held (about twice: paths and metadata) and copied once more into the
        # GatherWriterMetadata reply before its size is checked
        held = LIMITS['VSS_LIMIT_WRITERS_TOTAL'] * METADATA_MAX
        self.assertGreaterEqual(memory_max, 4 * held)
        # and still a bound: the service idles in under 8 MiB
        self.assertLessEqual(memory_max, 2 << 30)
        # threads: one per subvolume of a set being snapshotted, GTask's pool
        # and GLib's own; writers and callers take none
        tasks_max = int(one.get('TasksMax', '0'))
        self.assertGreaterEqual(tasks_max, VOLUMES_PER_SET + 64)
        self.assertLessEqual(tasks_max, 1024)

    def test_systemd_analyze_security(self):
        analyze = shutil.which('systemd-analyze')
        if analyze is None:
            self.skipTest('systemd-analyze is missing; test_hardening_directives reads the unit')
        unit = self.unit_path('vssd.service')
        if unit.endswith('.in'):
            self.skipTest('the unit is not configured: run with meson test')
        # --offline: no running systemd needed; --threshold: fails above it
        result = subprocess.run([analyze, 'security', '--offline=true', '--threshold=20', unit],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn('Unknown', result.stderr)
        match = re.search(r'Overall exposure level for vssd\.service: ([0-9.]+)', result.stdout)
        self.assertIsNotNone(match, result.stdout)
        # 0 is a sandbox, 10 is no protection; root with CAP_SYS_ADMIN cannot be 0
        self.assertLessEqual(float(match.group(1)), 2.0, result.stdout)

    def test_bus_activation_names_the_unit(self):
        service = self.directives('org.freedesktop.Vss1.service')
        self.assertEqual(service['Name'], [VSS_NAME])
        self.assertEqual(service['User'], ['root'])
        self.assertEqual(service['SystemdService'], ['vssd.service'])


if __name__ == '__main__':
    unittest.main()
