#!/usr/bin/python3
"""Consistency benchmark of the application writers (issue 15, docs/design.md §9).

Each real server runs under a write load that keeps a checkable invariant,
on a loop-mounted btrfs image (the integration tests' harness: private bus,
mock polkitd, vssd from the build tree). N backups are taken in each arm,
each restored into a fresh copy on which a second server is started and
checked:

PostgreSQL (data directory, WAL and a tablespace holding pgbench's tables on
three subvolumes; pgbench -c 2 writing):
  vss               vssd with vss-writer-postgresql
  plain             `btrfs subvolume snapshot -r` of the three, one after another
  vss+checkpoint    as vss, with a CHECKPOINT at Freeze and at Thaw
  plain+checkpoint  as plain, with a CHECKPOINT between the first and the second
  checks: the server starts, pgbench's balances agree, amcheck
  (bt_index_check with heapallindexed, verify_heapam) finds nothing.

MariaDB (data directory and binary log on two subvolumes; MyISAM, Aria and
InnoDB tables under transfers that keep each table's sum):
  vss               vssd with vss-writer-mariadb (FLUSH at PrepareForSnapshot)
  vss+flush-at-freeze  the same with --flush-at freeze
  plain             `btrfs subvolume snapshot -r` of the two, one after another
  checks: the server starts (MyISAM/Aria automatic repair off), CHECK TABLE
  ... EXTENDED, the sums.

A control per server shows that the checks catch a broken restore: a copy of
a good restore with one block of the table overwritten, and one balance
changed. The cost: the longest time a probe writing in a loop waited during
each backup (median, p99 over N), and each backup's duration.

    sudo bench/consistency/consistency.py [--server postgresql|mariadb|all] [-n 20]
        [--json FILE]

Run from a build tree made with meson (it uses _build/service/vssd and the
uninstalled typelib, or the VSSD and VSS_BUILD_ROOT of the environment).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import unittest

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRCDIR, 'tests'))

OPTIONS = argparse.Namespace(server='all', n=20, json=None)
RESULTS = {}


def setup_environment():
    build = os.environ.get('VSS_BUILD_ROOT', os.path.join(SRCDIR, '_build'))
    os.environ.setdefault('VSSD', os.path.join(build, 'service', 'vssd'))
    for variable in ('GI_TYPELIB_PATH', 'LD_LIBRARY_PATH'):
        os.environ[variable] = os.path.join(build, 'libvss-gobject') + \
            (':' + os.environ[variable] if os.environ.get(variable) else '')


class Probe:
    """A thread that writes in a loop and remembers when each write ended:
    the longest gap in a time window is how long writes were blocked."""

    def __init__(self, write):
        self.write = write
        self.times = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.write()
            except Exception:
                time.sleep(0.01)
                continue
            self.times.append(time.monotonic())

    def longest_wait(self, start, end):
        """ms: the longest stretch of [start, end] with no write completing."""
        # the window may close before the blocked write completes
        deadline = time.monotonic() + 10
        while (not self.times or self.times[-1] < end) and time.monotonic() < deadline:
            time.sleep(0.005)
        inside = [t for t in self.times if start <= t <= end]
        after = next((t for t in self.times if t > end), end)
        edges = [start] + inside + [after]
        return max(b - a for a, b in zip(edges, edges[1:])) * 1000

    def stop(self):
        self.running = False
        self.thread.join(5)


def summary(samples):
    """One arm: broken count, and the cost (median, p99)."""
    def percentile(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
    row = {'n': len(samples), 'broken': sum(1 for s in samples if s['problems']),
           'did_not_start': sum(1 for s in samples if not s['started'])}
    for key in [k for k in samples[0] if k.endswith('_ms')]:
        values = [s[key] for s in samples]
        row[key] = {'median': round(statistics.median(values), 1),
                    'p99': round(percentile(values, 99), 1)}
    return row


def plain_snapshots(volumes, between=None):
    """`btrfs subvolume snapshot -r` of each volume, one after another (as a
    script or snapper would); between() runs after the first."""
    snapshots = {}
    for index, volume in enumerate(volumes):
        directory = os.path.join(volume, '.plain')
        os.makedirs(directory, exist_ok=True)
        target = os.path.join(directory, f'snap-{time.monotonic_ns()}')
        subprocess.run(['btrfs', '-q', 'subvolume', 'snapshot', '-r', volume, target],
                       check=True, stdout=subprocess.DEVNULL)
        snapshots[volume] = target
        if index == 0 and between is not None:
            between()
    return snapshots


def delete_snapshots(snapshots):
    for snapshot in snapshots.values():
        subprocess.run(['btrfs', '-q', 'subvolume', 'delete', snapshot], check=True,
                       stdout=subprocess.DEVNULL)


def report(name, arms, control):
    RESULTS[name] = {'arms': {arm: summary(samples) for arm, samples in arms.items()},
                     'samples': arms, 'control': control}
    print(f'\n== {name}', flush=True)
    for arm, row in RESULTS[name]['arms'].items():
        costs = ', '.join(f'{k} median {v["median"]} p99 {v["p99"]}'
                          for k, v in row.items() if isinstance(v, dict))
        print(f'{arm:22} broken {row["broken"]}/{row["n"]} (did not start: '
              f'{row["did_not_start"]}); {costs}', flush=True)
    print(f'control: {control}', flush=True)


def run_arm(test, name, arms, arm, take_backup, restore_and_check, probes):
    samples = []
    for i in range(OPTIONS.n):
        copy, copies = test.copy_snapshots()
        start = time.monotonic()
        try:
            take_backup(copy)
            failure = None
        except Exception as e:
            failure = f'backup failed: {e}'
        end = time.monotonic()
        sample = {'arm': arm, 'i': i, 'backup_ms': round((end - start) * 1000, 1)}
        for probe_name, probe in probes.items():
            sample[f'{probe_name}_blocked_ms'] = round(probe.longest_wait(start, end), 1)
        if failure is None:
            sample['started'], sample['problems'] = restore_and_check(copies, i)
        else:
            sample['started'], sample['problems'] = False, [failure]
        samples.append(sample)
        subprocess.run(['rm', '-rf', os.path.join(test.btrfs.mountpoint, 'restore')])
        verdict = 'BROKEN ' + '; '.join(sample['problems'])[:300] if sample['problems'] else 'ok'
        print(f'{name} {arm} #{i}: {verdict} ({sample["backup_ms"]} ms)', flush=True)
    arms[arm] = samples


def control(test):
    """The checks must catch a broken restore: one backup (vss; plain
    snapshots while vss lacks what the writer needs) restored twice, checked
    as it is, and checked again broken on purpose."""
    clean, clean_copies = test.copy_snapshots('control-clean')
    broken, broken_copies = test.copy_snapshots('control-broken')

    def both(snapshots):
        clean(snapshots)
        broken(snapshots)
    try:
        test.backup(test.volumes, inspect=both)
        source = 'vss'
    except Exception:
        test.take_plain(both)
        source = 'plain'
    _, before = test.restore_and_check(clean_copies, 'control-clean')
    started, after = test.restore_and_check(broken_copies, 'control-broken', corrupt=True)
    for name in ('control-clean', 'control-broken'):
        subprocess.run(['rm', '-rf', os.path.join(test.btrfs.mountpoint, name)])
    return {'backup': source, 'problems_before_breaking': before[:5],
            'caught': bool(after) and after != before, 'problems_after_breaking': after[:8]}


from test_writer_mariadb import MariadbServerTestCase  # noqa: E402
from test_writer_postgresql import PostgresCluster, RESTORE_PORT  # noqa: E402
from dbservers import (amcheck, mariadb_checks, pgbench_invariants,  # noqa: E402
                       restore_mariadb, restore_postgres)


class PlainSnapshots:
    def take_plain(self, copy, between=None):
        """Plain sequential snapshots of the volumes, copied, deleted."""
        snapshots = plain_snapshots(self.volumes, between)
        try:
            copy(snapshots)
        finally:
            delete_snapshots(snapshots)


class PostgresConsistency(PlainSnapshots, PostgresCluster):
    def restore_and_check(self, copies, i, corrupt=False):
        restored = restore_postgres(self.server, copies, RESTORE_PORT, f'restored-{i}')
        try:
            restored.start(timeout=120)
        except subprocess.CalledProcessError:
            return False, ['did not start: ' + restored.log()[-500:]]
        problems = []
        try:
            if corrupt:
                self.break_restore(restored)
            # each check on its own: one that fails does not hide the others
            for check in (pgbench_invariants, amcheck):
                try:
                    problems += check(restored)
                except Exception as e:
                    problems.append(f'{check.__name__} failed: {str(e).strip()}')
            return True, problems
        finally:
            restored.stop()

    def break_restore(self, restored):
        """The control: one balance changed, one block of the accounts overwritten."""
        restored.sql('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1')
        (path,), = restored.sql("SELECT pg_relation_filepath('pgbench_accounts')")[0:1]
        restored.sql('CHECKPOINT')
        restored.stop()
        # the tuples at the end of a block (its header and line pointers kept)
        with open(os.path.join(restored.datadir, path), 'r+b') as f:
            f.seek(8192 * 5 + 7000)
            f.write(b'\xff' * 64)
        restored.start()

    def test_consistency(self):
        self.start()
        load = self.load(seconds=24 * 3600)
        probe_connection = self.server.connect()
        self.server.sql('CREATE TABLE IF NOT EXISTS probe (n bigint)')
        self.server.sql('INSERT INTO probe VALUES (0)')
        probe = Probe(lambda: probe_connection.cursor().execute('UPDATE probe SET n = n + 1'))

        def checkpoint():
            self.server.sql('CHECKPOINT')

        def checkpointing_writer():
            def at(writer, event):
                checkpoint()
                writer.ack(event.serial)
            return self.writer('checkpoint', script={'Freeze': at, 'Thaw': at})

        arms = {}
        plans = [
            ('vss', lambda copy: self.backup(self.volumes, inspect=copy)),
            ('plain', lambda copy: self.take_plain(copy)),
            ('vss+checkpoint', lambda copy: self.backup(self.volumes, inspect=copy)),
            ('plain+checkpoint', lambda copy: self.take_plain(copy, between=checkpoint)),
        ]
        for arm, take_backup in plans:
            helper = checkpointing_writer() if arm == 'vss+checkpoint' else None
            run_arm(self, 'postgresql', arms, arm, take_backup, self.restore_and_check,
                    {'writes': probe})
            if helper is not None:
                helper.close()
        probe.stop()
        load.terminate()
        report('postgresql', arms, control(self))



class MariadbConsistency(PlainSnapshots, MariadbServerTestCase):
    def restore_and_check(self, copies, i, corrupt=False):
        restored = restore_mariadb(self.server, copies, f'restored-{i}')
        try:
            restored.start(timeout=120)
        except AssertionError as e:
            return False, [f'did not start: {str(e)[-500:]}']
        try:
            if corrupt:
                restored.sql('UPDATE vss.t_innodb SET bal = bal + 1 WHERE id = 1')
                restored.stop()
                with open(os.path.join(restored.datadir, 'vss', 't_myisam.MYD'), 'r+b') as f:
                    f.seek(4096)
                    f.write(os.urandom(2000))
                restored.start()
            return True, mariadb_checks(restored)
        except Exception as e:
            return True, [f'check failed: {e}']
        finally:
            restored.stop()

    def test_consistency(self):
        self.load(seconds=24 * 3600)
        probes = {}
        for engine in ('myisam', 'innodb'):
            connection = self.server.connect()
            table = f'vss.t_{engine}'
            probes[engine] = Probe(lambda c=connection, t=table: c.cursor().execute(
                f'UPDATE {t} SET pad = "probe" WHERE id = 1'))

        arms = {}
        for arm in ('vss', 'vss+flush-at-freeze', 'plain'):
            program = None
            if arm.startswith('vss'):
                program = self.start(*(['--flush-at', 'freeze'] if 'freeze' in arm else []))

            def take_backup(copy):
                if arm == 'plain':
                    self.take_plain(copy)
                else:
                    self.backup(self.volumes, inspect=copy)
            run_arm(self, 'mariadb', arms, arm, take_backup, self.restore_and_check, probes)
            if program is not None:
                program.stop()
                self.programs.remove(program)
        for probe in probes.values():
            probe.stop()
        self.start()
        report('mariadb', arms, control(self))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--server', choices=('postgresql', 'mariadb', 'all'), default='all')
    parser.add_argument('-n', type=int, default=20, help='backups per arm (default 20)')
    parser.add_argument('--json', help='write every sample and the summary here')
    parser.parse_args(namespace=OPTIONS)
    setup_environment()
    names = []
    if OPTIONS.server in ('postgresql', 'all'):
        names.append('PostgresConsistency.test_consistency')
    if OPTIONS.server in ('mariadb', 'all'):
        names.append('MariadbConsistency.test_consistency')
    program = unittest.main(argv=[sys.argv[0], *names], exit=False, verbosity=1)
    if OPTIONS.json:
        with open(OPTIONS.json, 'w') as f:
            json.dump(RESULTS, f, indent=1)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
