#!/usr/bin/python3
"""vss-writer-postgresql against a real PostgreSQL 15 and a real vssd.

One cluster per class, on the test's loop-mounted btrfs image, with its data
directory, its WAL and a tablespace on three subvolumes; the writer runs as
the postgres OS user with peer authentication, as its systemd unit does."""

import os
import subprocess
import time
import unittest

from dbservers import (PG_BIN, PostgresServer, amcheck, chown_tree, map_path, pgbench_invariants,
                       require, restore_postgres)
from vsstest import VssError
from writertest import ServerWriterTestCase

PORT = 55432
RESTORE_PORT = 55433


class PostgresCluster(ServerWriterTestCase):
    """A cluster whose data directory, WAL and tablespace lie on three
    subvolumes: in a directory below each subvolume's root, as an admin
    would usually place them, or (AT_ROOTS) at the roots themselves."""

    LAYOUT_ADVICE = 'pg_basebackup'
    PORT = PORT

    @classmethod
    def setUpClass(cls):
        require(['psycopg2'], [f'{PG_BIN}/postgres', f'{PG_BIN}/pgbench', 'setpriv'])
        super().setUpClass()

    @classmethod
    def start_server(cls):
        cls.pg = cls.btrfs.create_subvolume('pg')
        cls.pgwal = cls.btrfs.create_subvolume('pgwal')
        cls.pgts = cls.btrfs.create_subvolume('pgts')
        for subvolume in (cls.pg, cls.pgwal, cls.pgts):
            chown_tree(subvolume, 'postgres')
        cls.server = PostgresServer(cls.place(cls.pg, 'data'), cls.PORT,
                                    os.path.join(cls.tmpdir, 'pgsock'),
                                    os.path.join(cls.tmpdir, 'postgresql.log'),
                                    waldir=cls.place(cls.pgwal, 'pg_wal'))
        cls.server.initdb()
        cls.server.start()
        tablespace = cls.place(cls.pgts, 'ts')
        os.makedirs(tablespace, exist_ok=True)
        chown_tree(tablespace, 'postgres')
        cls.server.sql(f"CREATE TABLESPACE ts LOCATION '{tablespace}'")
        # pgbench's tables in the tablespace, on a subvolume of their own
        init = cls.server.pgbench('-i', '-q', '-s', '2', '--tablespace=ts',
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if init.wait() != 0:
            raise AssertionError(f'pgbench -i failed with {init.returncode}')

    def setUp(self):
        super().setUp()
        self.volumes = [self.pg, self.pgwal, self.pgts]

    def start(self, *args):
        return self.start_writer('postgresql', '--pgdata', self.server.datadir, *args,
                                 user='postgres')

    def load(self, seconds=60):
        """pgbench writing while the test runs; stopped at cleanup."""
        process = self.server.pgbench(
            '-n', '-c', '2', '-T', str(seconds), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (process.terminate(), process.wait()))
        time.sleep(1)
        return process

    def vss_slots(self):
        return self.server.sql("SELECT slot_name FROM pg_replication_slots "
                               "WHERE slot_name LIKE 'vss%%'")

    def assert_let_go(self, program):
        """No backup or slot of the writer is left behind: a new backup may start."""
        for _ in range(100):
            if not self.vss_slots():
                break
            time.sleep(0.05)
        self.assertEqual(self.vss_slots(), [])
        self.assertRegex(program.log(), r'stopping backup of set')
        self.server.sql('UPDATE pgbench_branches SET bbalance = bbalance')

    def assert_restore_from_the_snapshots_passes_the_checks(self):
        """A backup under pgbench, restored from copies of its snapshots
        alone (no WAL archive), starts consistent and passes the checks."""
        program = self.start()
        self.load()
        copy, copies = self.copy_snapshots()
        self.backup(self.volumes, inspect=copy)
        self.assertRegex(program.log(), r'added backup_label, tablespace_map and \d+ WAL')
        metadata = self.metadata('postgresql vss-test')
        self.assertEqual(sorted(metadata['exclude']),
                         [os.path.join(self.server.datadir, 'postmaster.opts'),
                          os.path.join(self.server.datadir, 'postmaster.pid')])
        self.assertEqual(metadata['restore-method'], 'stop-restore-start')

        data = map_path(self.server.datadir, copies)
        with open(os.path.join(data, 'backup_label')) as f:
            self.assertIn('LABEL: vss ', f.read())
        self.assertTrue(os.path.exists(os.path.join(data, 'tablespace_map')))
        restored = restore_postgres(self.server, copies, RESTORE_PORT, 'restored')
        restored.start()
        self.addCleanup(restored.stop)
        self.assertEqual(pgbench_invariants(restored), [])
        self.assertEqual(amcheck(restored), [])
        self.assertNotIn('WAL ends before', restored.log())
        self.assertEqual(self.vss_slots(), [])


class PostgresWriterTest(PostgresCluster):
    def test_restore_from_the_snapshots_passes_the_checks(self):
        self.assert_restore_from_the_snapshots_passes_the_checks()

    def test_veto_by_another_writer_leaves_the_database_unblocked(self):
        program = self.start()
        self.writer('vetoer', script={'Freeze': ('fail', 'retryable', 'no')})
        with self.assertRaises(VssError):
            self.backup(self.volumes)
        self.assert_let_go(program)
        self.assertIn('Abort', program.log())

    def test_vssd_killed_while_the_writer_is_in_backup_mode(self):
        program = self.start()
        hanger = self.writer('hangs', script={'PrepareForSnapshot': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, self.volumes)
        pending = backup.call_async('DoSnapshotSet')
        hanger.wait_for('PrepareForSnapshot')
        program.wait_for_log(r'backup vss \S+ started at')
        self.assertEqual(len(self.vss_slots()), 1)
        self.kill_vssd_and_restart([program])
        self.assertIsNotNone(pending.error_name())
        self.assert_let_go(program)
        self.assertIn('vssd left the bus', program.log())
        hanger.close()
        self.backup(self.volumes)

    def test_database_restarted_between_backups(self):
        self.assert_backups_across_a_server_restart(self.start(), self.server.restart,
                                                    'session to PostgreSQL was lost')

    def test_backup_of_an_unrelated_subvolume_sends_it_nothing(self):
        program = self.start()
        self.assert_unrelated_backup_sends_nothing(program)
        self.assert_layout_advice(program)

    def test_refuses_a_set_without_the_wal(self):
        self.start()
        with self.assertRaises(VssError):
            self.backup([self.pg, self.pgts])
        state, _failure, message = self.status_message('postgresql vss-test')
        self.assertEqual(state, 'failed-at-prepare-backup')
        self.assertIn(os.path.join(self.pgwal, 'pg_wal'), message)


class PostgresAtSubvolumeRootsTest(PostgresCluster):
    """The data directory, the WAL and the tablespace each the root of its
    subvolume (vssd's .vss-snapshots then lies inside them)."""

    AT_ROOTS = True
    PORT = PORT + 2

    def test_restore_from_the_snapshots_passes_the_checks(self):
        self.assert_restore_from_the_snapshots_passes_the_checks()

    def test_backup_of_an_unrelated_subvolume_sends_it_nothing(self):
        program = self.start()
        self.assert_unrelated_backup_sends_nothing(program)
        self.assert_layout_advice(program)


if __name__ == '__main__':
    unittest.main()
