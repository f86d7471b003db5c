#!/usr/bin/python3
"""Reliability: a crash anywhere leaves every application running and every
snapshot accounted for.

Each test injects one fault (a writer or requester process SIGKILLed at a
given point, vssd SIGKILLed and restarted, a full filesystem, a subvolume
that goes away, a late answer, a race) into a real vssd on a private bus and
a loop-mounted btrfs, and then checks with assertSurvived() that

  1. no writer is frozen or waiting: no writer application printed 'frozen'
     without 'thawed' after it, no writer object of the service is in a
     waiting-for-* state, and every writer that took part in a backup got
     its BackupShutdown;
  2. no .vss-snapshots entry exists without a snapshot-set record;
  3. no record exists without its snapshots (and each is listed on the bus);
  4. the service answers (and can run a backup).

Each test writes its result to $VSS_BUILD_ROOT/fault-matrix/<test>.json; the
meson test 'fault-matrix-summary' (tests/fault-matrix-summary.py) prints them
as a table after the suite and fails if a fault was not survived or not tried.

Writers and requesters that are killed run in processes of their own
(tests/fault-writer.py and tests/fault-requester.py, through libvss-gobject);
the others are the harness's in-process writers and requesters.

The load tests at the end run 200 backup cycles with 100 writers in 4
processes, and 20 requesters hammering CreateBackupComponents/Release while
backups run.
"""

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import unittest

import btrfsutil
from gi.repository import GLib

from vsstest import (BACKUP_IFACE, MANAGER_IFACE, SNAPSHOT_IFACE, VSS_PATH, WRITER_IFACE,
                     BtrfsImage, VssTestCase, iterate_until, spin)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
FAULT_WRITER = os.path.join(TESTS_DIR, 'fault-writer.py')
FAULT_REQUESTER = os.path.join(TESTS_DIR, 'fault-requester.py')


def results_dir():
    root = os.environ.get('VSS_BUILD_ROOT') or os.path.join(TESTS_DIR, '..', '_build')
    return os.path.join(root, 'fault-matrix')


def run_id():
    """One run of the suite: meson runs every test from one process, its parent."""
    return os.environ.get('VSS_FAULT_MATRIX_RUN') or str(os.getppid())


FULL_CYCLE = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
              'PostSnapshot', 'BackupComplete', 'BackupShutdown']


# ---- processes of their own ------------------------------------------------------------------

class ChildProcess:
    """A helper program whose stdout lines are collected by a thread."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        self.lines = []   # (monotonic time, line)
        self.lock = threading.Lock()
        with open(log_path, 'ab') as log:
            log.write(f'---- {" ".join(argv)} ----\n'.encode())
            log.flush()
            self.process = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                                            stderr=log, text=True, bufsize=1)
        self.pid = self.process.pid
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip('\n')))

    def text_lines(self):
        with self.lock:
            return [line for _, line in self.lines]

    def timed_lines(self):
        with self.lock:
            return list(self.lines)

    def has_line(self, line):
        return line in self.text_lines()

    def wait_for_line(self, pattern, timeout=30, count=1):
        """Turns the main loop until @count lines match @pattern (a regex); returns the last."""
        regex = re.compile(pattern)

        def found():
            return len([line for line in self.text_lines() if regex.fullmatch(line)]) >= count
        try:
            iterate_until(lambda: found() or self.process.poll() is not None, timeout,
                          f'{os.path.basename(self.argv[0])} to print {pattern!r}')
        except AssertionError:
            raise AssertionError(f'no line {pattern!r} in time; got:\n' + self.dump())
        self.thread.join(0.2 if self.process.poll() is not None else 0)
        matches = [line for line in self.text_lines() if regex.fullmatch(line)]
        if len(matches) < count:
            raise AssertionError(f'{self.argv[0]} exited ({self.process.returncode}) without '
                                 f'printing {pattern!r}:\n' + self.dump())
        return matches[count - 1]

    def alive(self):
        return self.process.poll() is None

    def wait_exit(self, timeout=30):
        iterate_until(lambda: self.process.poll() is not None, timeout,
                      f'{self.argv[0]} to exit')
        self.thread.join(5)
        return self.process.returncode

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.thread.join(5)
        self.process.stdout.close()

    def dump(self, last=60):
        lines = self.text_lines()
        return '\n'.join(lines[-last:])


class WriterProcess(ChildProcess):
    """tests/fault-writer.py: writers through libvss-gobject, in a process of their own."""

    def __init__(self, name, args, log_path, count=1):
        self.name = name
        self.count = count
        self.names = [name] if count == 1 else [f'{name}-{i}' for i in range(count)]
        super().__init__([FAULT_WRITER, '--name', name, '--count', str(count), *args], log_path)

    def events(self, writer=None, local=False):
        """[(event, writer, backup)] in the order received; service events unless @local."""
        result = []
        for line in self.text_lines():
            words = line.split(' ')
            if words[0] != 'event':
                continue
            is_local = len(words) > 4 and words[4] == 'local'
            if is_local != local:
                continue
            if writer is None or words[2] == writer:
                result.append((words[1], words[2], words[3]))
        return result

    def names_of(self, writer):
        return [event for event, _, _ in self.events(writer)]

    def count_of(self, event, writer=None):
        return sum(1 for e, _, _ in self.events(writer) if e == event)

    def frozen_writers(self):
        """Writers whose last word was 'frozen' (a dead process holds nothing frozen)."""
        state = {}
        for line in self.text_lines():
            words = line.split(' ')
            if words[0] in ('frozen', 'thawed'):
                state[words[1]] = words[0]
        return sorted(w for w, s in state.items() if s == 'frozen')

    def self_aborts(self):
        return [line for line in self.text_lines() if line.startswith('self-abort ')]


# ---- the test case base -------------------------------------------------------------------------

class ReliabilityTestCase(VssTestCase):
    """A VssTestCase that records its fault's result and checks the four invariants."""

    category = 'fault'

    def setUp(self):
        self.processes = []
        self.extra_images = []
        self.notes = {}
        self.survived_checked = False
        self.started_at = time.monotonic()
        # cleanups run last-in first-out: the result is written last, after
        # vssd stopped (its exit status counts) and extra images are gone
        self.addCleanup(self._record_result)
        self.addCleanup(self._destroy_extra_images)
        super().setUp()
        self.addCleanup(self._stop_processes)

    # -- results for the fault matrix

    def note(self, key, value):
        """A fact for the fault matrix table (what the requester saw, a measurement)."""
        self.notes[key] = re.sub(r'GDBus\.Error:[\w.]+: ', '', str(value))

    def _record_result(self):
        outcome = getattr(self, '_outcome', None)
        passed = outcome is None or outcome.success
        error = ''
        if outcome is not None and outcome.result is not None:
            # the last line of this test's traceback, for the table
            for test, text in outcome.result.errors + outcome.result.failures:
                if test is self and text:
                    error = text.strip().splitlines()[-1]
        record = {
            'test': f'{type(self).__name__}.{self._testMethodName}',
            'category': self.category,
            'fault': self.shortDescription() or self._testMethodName,
            'survived': bool(passed and self.survived_checked),
            'checked': self.survived_checked,
            'passed': passed,
            'error': error.splitlines()[-1][:300] if error else '',
            'notes': self.notes,
            'duration_s': round(time.monotonic() - self.started_at, 2),
            'run': run_id(),
            'time': time.time(),
        }
        directory = results_dir()
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, record['test'] + '.json')
        with open(path + '.tmp', 'w') as f:
            json.dump(record, f, indent=1)
        os.replace(path + '.tmp', path)

    # -- helpers

    def _stop_processes(self):
        failed = self._outcome is not None and not self._outcome.success
        for process in self.processes:
            process.stop()
            if failed:
                sys.stderr.write(f'\n---- {" ".join(process.argv)} (stdout) ----\n'
                                 f'{process.dump(200)}\n')
        if failed and self.processes:
            # their stderr (libvss-gobject's warnings), one file for all
            try:
                with open(self.process_log(), errors='replace') as f:
                    sys.stderr.write(f'\n---- stderr of the processes ----\n'
                                     f'{f.read()[-6000:]}\n')
            except OSError:
                pass

    def _destroy_extra_images(self):
        for image in self.extra_images:
            image.destroy()

    def extra_btrfs(self):
        """A small btrfs of its own (for filling up, or unmounting), gone after the test."""
        image = BtrfsImage(size='128M')
        self.extra_images.append(image)
        return image

    def process_log(self):
        return os.path.join(self.state_dir, 'processes.log')

    def writer_process(self, name, *args, count=1, wait=True):
        """Writers through libvss-gobject in a process of their own, registered."""
        process = WriterProcess(name, list(args), self.process_log(), count=count)
        self.processes.append(process)
        if wait:
            process.wait_for_line('ready', timeout=60)
        return process

    def requester_process(self, volumes, *args):
        process = ChildProcess([FAULT_REQUESTER, *[a for v in volumes for a in ('--volume', v)],
                                *args], self.process_log())
        self.processes.append(process)
        return process

    def backup_objects(self, client):
        return [p for p, i in client.managed_objects().items() if BACKUP_IFACE in i]

    def writer_objects(self, client):
        return {p: i[WRITER_IFACE] for p, i in client.managed_objects().items()
                if WRITER_IFACE in i}

    def snapshot_objects(self, client):
        return {p: i[SNAPSHOT_IFACE] for p, i in client.managed_objects().items()
                if SNAPSHOT_IFACE in i}

    def mountpoints(self):
        return [self.btrfs.mountpoint] + [image.mountpoint for image in self.extra_images]

    def all_snapshots_on_disk(self):
        """Every <subvolume>/.vss-snapshots/<entry> on the test filesystems."""
        found = set()
        for mountpoint in self.mountpoints():
            for name in os.listdir(mountpoint):
                snapdir = os.path.join(mountpoint, name, '.vss-snapshots')
                if os.path.isdir(snapdir) and not os.path.islink(snapdir):
                    found.update(os.path.join(snapdir, entry) for entry in os.listdir(snapdir))
        return found

    def read_records(self):
        """{set id: {'complete', 'context', 'snapshots': {path: created}}} of the state dir."""
        records = {}
        directory = os.path.join(self.state_dir, 'snapshot-sets')
        for name in self.records():
            keyfile = GLib.KeyFile()
            keyfile.load_from_file(os.path.join(directory, name), GLib.KeyFileFlags.NONE)
            snapshots = {}
            for snapshot_id in keyfile.get_string_list('SnapshotSet', 'Snapshots'):
                group = f'Snapshot {snapshot_id}'
                snapshots[keyfile.get_string(group, 'SnapshotPath')] = \
                    keyfile.get_boolean(group, 'Created')
            records[keyfile.get_string('SnapshotSet', 'Id')] = {
                'complete': keyfile.get_boolean('SnapshotSet', 'Complete'),
                'context': keyfile.get_string('SnapshotSet', 'Context'),
                'snapshots': snapshots,
            }
        return records

    def assertEventually(self, predicate, message, timeout=15):
        try:
            iterate_until(predicate, timeout, message)
        except AssertionError:
            self.fail(message)

    def assertLogged(self, pattern):
        """The vssd log (what the journal gets) has a line matching @pattern (a regex)."""
        regex = re.compile(pattern)
        self.assertEventually(lambda: any(regex.search(line) for line in
                                          self.vssd.log().splitlines()),
                              f'vssd logged no line matching {pattern!r}', timeout=5)

    # -- the four invariants

    def assertSurvived(self, writers=(), processes=(), backups_ended=True):
        """The invariants every fault must leave intact; see the module docstring.

        @writers: in-process writers, @processes: WriterProcess objects;
        @backups_ended: every writer that took part in a backup must have
        received its BackupShutdown (not when vssd itself was killed).
        """
        admin = self.client()

        # every backup ended: no BackupComponents object is left
        self.assertEventually(lambda: not self.backup_objects(admin),
                              'every backup to end (BackupComponents objects are left)', 30)

        # 1. no writer frozen or waiting
        for writer in writers:
            self.assertFalse(writer.is_frozen(), f'writer {writer.name} is still frozen')
        for process in processes:
            if process.alive():
                self.assertEventually(lambda p=process: not p.frozen_writers(),
                                      f'{process.name}: writers still frozen: '
                                      f'{process.frozen_writers()}', 5)
        for path, props in self.writer_objects(admin).items():
            self.assertFalse(props['State'].startswith('waiting-for'),
                             f'writer {props["Name"]} ({path}) is {props["State"]}')
        if backups_ended:
            def unfinished(events):
                """backups an event list took part in without BackupShutdown"""
                took_part, shut_down = set(), set()
                for name, backup in events:
                    if name == 'PrepareForBackup':
                        took_part.add(backup)
                        shut_down.discard(backup)
                    elif name == 'BackupShutdown':
                        shut_down.add(backup)
                return took_part - shut_down
            for writer in writers:
                self.assertEventually(
                    lambda w=writer: not unfinished([(e.name, e.backup) for e in w.events]),
                    f'writer {writer.name} got no BackupShutdown for a backup it took part in')
            for process in processes:
                if not process.alive():
                    continue
                for name in process.names:
                    self.assertEventually(
                        lambda p=process, n=name: not unfinished(
                            [(e, b) for e, _, b in p.events(n)]),
                        f'writer {name} got no BackupShutdown for a backup it took part in')

        # 2. no .vss-snapshots entry without a record
        records = self.read_records()
        recorded = {path for record in records.values() for path in record['snapshots']}
        on_disk = self.all_snapshots_on_disk()
        orphans = sorted(on_disk - recorded)
        if orphans:
            self.fail(f'snapshots on disk without a record: {orphans}')

        # 3. no record without its snapshots; what is recorded is listed
        listed = {props['SnapshotPath'] for props in self.snapshot_objects(admin).values()}
        for set_id, record in records.items():
            self.assertTrue(record['complete'], f'record {set_id} is incomplete at rest')
            self.assertEqual(record['context'], 'persistent',
                             f'record {set_id} of context backup outlived its backup')
            created = [path for path, made in record['snapshots'].items() if made]
            self.assertTrue(created, f'record {set_id} names no snapshot')
            for path in created:
                self.assertIn(path, on_disk, f'record {set_id}: snapshot {path} is missing')
                self.assertTrue(btrfsutil.get_subvolume_read_only(path))
                self.assertIn(path, listed, f'snapshot {path} of set {set_id} is not listed')
        if listed - recorded:
            self.fail(f'listed snapshots without a record: {sorted(listed - recorded)}')

        # 4. the service answers, and can still make a backup object
        self.assertTrue(self.vssd.running(), 'vssd is not running')
        self.assertTrue(admin.get_property(VSS_PATH, MANAGER_IFACE, 'Version'))
        probe = admin.create_backup()
        probe.InitializeForBackup()
        probe.Release()
        self.survived_checked = True

    # -- common steps

    def full_backup(self, volumes, context=None):
        """A fresh requester takes a whole backup; returns its set ID."""
        backup = self.requester()
        set_id = self.backup_until_prepared(backup, volumes, context)
        backup.DoSnapshotSet()
        backup.BackupComplete()
        backup.Release()
        backup.client.close()
        return set_id

    def status_named(self, backup, name):
        """(state, failure, message) of the writer called @name, from GatherWriterStatus."""
        for _path, writer_name, state, failure, message in backup.GatherWriterStatus():
            if writer_name == name:
                return state, failure, message
        raise AssertionError(f'no writer {name} in GatherWriterStatus')

    def wait_gone(self, path, client=None, what='object'):
        client = client or self.client()
        self.assertEventually(lambda: path not in client.managed_objects(),
                              f'{what} {path} to go')


# ---- a writer killed while handling each event ---------------------------------------------

class WriterKilledTest(ReliabilityTestCase):
    """A writer process SIGKILLed while it handles an event, next to a healthy writer."""

    category = 'writer killed'

    def start(self, event, bystander_script=None):
        self.volume = self.subvolume('data', {'db': b'rows'})
        self.dying = self.writer_process('dying', *(['--die-at', event] if event else []))
        self.bystander = self.writer('bystander', script=bystander_script)
        self.backup = self.requester()

    def died(self):
        self.assertEqual(self.dying.wait_exit(), -signal.SIGKILL)

    def wait_writer_gone(self, name):
        """Until the service dropped the writer called @name."""
        self.assertEventually(
            lambda: name not in [p['Name'] for p in self.writer_objects(self.client()).values()],
            f'the service to drop writer {name}')

    def assertFailureLogged(self, event, reason=None):
        # the admin reads in the journal which backup, which writer, and why
        reason = reason or f'left before answering {event}'
        self.assertLogged(rf"{re.escape(self.backup.path)}: writer 'dying' failed {event} "
                          rf"\(non-retryable\): writer 'dying' {reason}")

    def finish(self, expected_bystander_events):
        self.backup.Release()
        self.bystander.wait_for('BackupShutdown')
        if expected_bystander_events is not None:
            self.assertEqual(self.bystander.names(), expected_bystander_events)
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertSurvived(writers=[self.bystander], processes=[self.dying])

    def test_identify(self):
        """writer SIGKILLed while handling Identify"""
        self.start('Identify')
        self.backup.InitializeForBackup()
        writers = self.backup.GatherWriterMetadata()
        self.died()
        # it is simply not part of this backup
        self.assertEqual([name for _, name, _ in writers], ['bystander'])
        self.backup.StartSnapshotSet()
        self.backup.AddToSnapshotSet(self.volume)
        self.backup.PrepareForBackup()
        self.backup.DoSnapshotSet()
        self.backup.BackupComplete()
        self.note('requester saw', 'GatherWriterMetadata without it; backup completed')
        self.assertFailureLogged('Identify')
        self.finish(FULL_CYCLE)

    def test_prepare_for_backup(self):
        """writer SIGKILLed while handling PrepareForBackup"""
        self.start('PrepareForBackup')
        self.backup.InitializeForBackup()
        self.backup.GatherWriterMetadata()
        self.backup.StartSnapshotSet()
        self.backup.AddToSnapshotSet(self.volume)
        error = self.assertCallFails('WriterFailure', self.backup.PrepareForBackup)
        self.died()
        self.assertIn("'dying'", error.message)
        self.assertEqual(self.backup.state, 'prepare-failed')
        self.assertEqual(self.status_named(self.backup, 'dying')[:2],
                         ('failed-at-prepare-backup', 'non-retryable'))
        self.backup.AbortBackup()
        self.note('requester saw', 'PrepareForBackup: WriterFailure')
        self.assertFailureLogged('PrepareForBackup')
        self.finish(['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'])

    def test_prepare_for_snapshot(self):
        """writer SIGKILLed while handling PrepareForSnapshot"""
        self.start('PrepareForSnapshot')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.died()
        self.assertIn("'dying'", error.message)
        self.assertEqual(self.backup.state, 'snapshot-failed')
        # rule 3: a PrepareForSnapshot failure sends no Abort; the requester does
        self.assertEqual(self.bystander.names(),
                         ['Identify', 'PrepareForBackup', 'PrepareForSnapshot'])
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure')
        self.assertFailureLogged('PrepareForSnapshot')
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Abort',
                     'BackupShutdown'])

    def test_freeze(self):
        """writer SIGKILLed while frozen (after acknowledging Freeze)"""
        # the bystander holds its Freeze until the service has seen the
        # frozen writer go, so the snapshot is taken after the death
        self.start('Freeze', bystander_script={'Freeze': 'hang'})
        self.backup_until_prepared(self.backup, [self.volume])
        pending = self.backup.call_async('DoSnapshotSet')
        self.bystander.wait_for('Freeze')
        self.died()
        self.assertIn('frozen dying', self.dying.text_lines())
        self.wait_writer_gone('dying')
        self.bystander.ack(self.bystander.pending[0].serial)
        outcome = pending.error_name()
        status = self.status_named(self.backup, 'dying')
        self.note('requester saw', f'DoSnapshotSet: {outcome or "succeeded"}; '
                  f'GatherWriterStatus of the dead writer: {"/".join(status[:2])}')
        if outcome is None:
            self.backup.BackupComplete()
        else:
            self.backup.AbortBackup()
        self.assertLogged(r"writer \d+ 'dying' is gone")
        self.finish(None)
        # the writer never got Thaw: it failed Thaw like a writer that dies
        # with Thaw pending (rule 3), and the requester learns so
        self.assertEqual(outcome, 'WriterFailure')
        self.assertEqual(status[:2], ('failed-at-thaw', 'non-retryable'))
        self.assertFailureLogged('Thaw', 'left before Thaw was sent')

    def test_between_prepare_for_backup_and_do_snapshot_set(self):
        """writer SIGKILLed between PrepareForBackup and DoSnapshotSet (never frozen)"""
        self.start(None)
        self.backup_until_prepared(self.backup, [self.volume])
        self.dying.process.kill()
        self.died()
        self.wait_writer_gone('dying')
        outcome = self.backup.call_async('DoSnapshotSet').error_name()
        status = self.status_named(self.backup, 'dying')
        self.note('requester saw', f'DoSnapshotSet: {outcome or "succeeded"}; '
                  f'GatherWriterStatus of the dead writer: {"/".join(status[:2])}')
        if outcome is None:
            self.backup.BackupComplete()
        else:
            self.backup.AbortBackup()
        self.finish(None)
        # its data was never quiesced: the snapshot is not application-
        # consistent, so DoSnapshotSet must not pass it as if it were
        self.assertEqual(outcome, 'WriterFailure')
        self.assertEqual(status[:2], ('failed-at-prepare-snapshot', 'non-retryable'))
        self.assertFailureLogged('PrepareForSnapshot', 'left before PrepareForSnapshot was sent')

    def test_thaw(self):
        """writer SIGKILLed while handling Thaw"""
        self.start('Thaw')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.died()
        self.assertIn("'dying'", error.message)
        self.assertIn('Thaw', error.message)
        # rule 3: the service aborted and deleted the snapshot itself
        self.assertEqual(self.bystander.count('Abort'), 1)
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertEqual(self.backup.state, 'snapshot-failed')
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure, service sent Abort')
        self.assertFailureLogged('Thaw')
        self.assertLogged(rf"{re.escape(self.backup.path)}: aborting: writer 'dying' failed Thaw")
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
                     'Abort', 'BackupShutdown'])

    def test_post_snapshot(self):
        """writer SIGKILLed while handling PostSnapshot"""
        self.start('PostSnapshot')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.died()
        self.assertIn("'dying'", error.message)
        self.assertEqual(self.backup.state, 'snapshot-failed')
        self.backup.AbortBackup()
        # rule 5: the bystander completed PostSnapshot, so it gets no Abort
        self.note('requester saw', 'DoSnapshotSet: WriterFailure')
        self.assertFailureLogged('PostSnapshot')
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
                     'PostSnapshot', 'BackupShutdown'])

    def test_backup_complete(self):
        """writer SIGKILLed while handling BackupComplete"""
        self.start('BackupComplete')
        self.backup_until_prepared(self.backup, [self.volume])
        self.backup.DoSnapshotSet()
        error = self.assertCallFails('WriterFailure', self.backup.BackupComplete)
        self.died()
        self.assertIn("'dying'", error.message)
        # the state still advances (docs/design.md §3)
        self.assertEqual(self.backup.state, 'completed')
        self.note('requester saw', 'BackupComplete: WriterFailure, state completed')
        self.assertFailureLogged('BackupComplete')
        self.finish(FULL_CYCLE)

    def test_abort(self):
        """writer SIGKILLed while handling Abort"""
        self.start('Abort')
        self.backup_until_prepared(self.backup, [self.volume])
        self.backup.AbortBackup()
        self.died()
        self.assertEqual(self.backup.state, 'aborted')
        self.note('requester saw', 'AbortBackup succeeded')
        self.finish(['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'])

    def test_backup_shutdown(self):
        """writer SIGKILLed while handling BackupShutdown"""
        self.start('BackupShutdown')
        self.backup_until_prepared(self.backup, [self.volume])
        self.backup.DoSnapshotSet()
        self.backup.BackupComplete()
        self.note('requester saw', 'Release succeeded')
        self.finish(FULL_CYCLE)
        self.died()


# ---- the requester killed after each call ------------------------------------------------

class RequesterKilledTest(ReliabilityTestCase):
    """A requester process SIGKILLed right after a call returned."""

    category = 'requester killed'

    # the events the writer gets from the killed requester's backup
    EXPECTED = {
        'CreateBackupComponents': [],
        'InitializeForBackup': [],
        'SetContext': [],
        'GatherWriterMetadata': ['Identify'],
        'StartSnapshotSet': ['Identify'],
        'AddToSnapshotSet': ['Identify'],
        # rule 8: prepared and neither completed nor aborted: aborted
        'PrepareForBackup': ['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'],
        # rule 5: after PostSnapshot no Abort, but the backup is still aborted
        'DoSnapshotSet': ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze',
                          'Thaw', 'PostSnapshot', 'BackupShutdown'],
        'BackupComplete': FULL_CYCLE,
        'Release': FULL_CYCLE,
    }

    def kill_after(self, call, context='backup'):
        volume = self.subvolume('data', {'db': b'rows'})
        writer = self.writer('w')
        requester = self.requester_process([volume], '--die-after', call, '--context', context)
        requester.wait_for_line(f'called {call}')
        self.assertEqual(requester.wait_exit(), -signal.SIGKILL)
        [path] = [line.split(' ')[1] for line in requester.text_lines()
                  if line.startswith('backup ')]
        expected = self.EXPECTED[call]
        self.assertEventually(lambda: writer.names() == expected,
                              f'the writer to get {expected}, it got {writer.names()}')
        # the backup object goes with its requester
        self.assertEventually(lambda: not self.backup_objects(self.client()),
                              'the backup of the dead requester to go')
        spin(0.2)
        self.assertEqual(writer.names(), expected)
        # the journal tells which backup ended, and why
        reason = 'the requester called Release' if call == 'Release' else '.* left the bus'
        self.assertLogged(rf'{re.escape(path)}: released \({reason}\)')
        return volume, writer

    def check_backup_context(self, call):
        volume, writer = self.kill_after(call)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        # the snapshot-set lock went with it: the next backup runs
        events_before = len(writer.events)
        self.full_backup([volume])
        self.assertEqual(writer.names()[events_before:], FULL_CYCLE)
        self.assertSurvived(writers=[writer])

    def test_after_create_backup_components(self):
        """requester SIGKILLed after CreateBackupComponents"""
        self.check_backup_context('CreateBackupComponents')

    def test_after_initialize_for_backup(self):
        """requester SIGKILLed after InitializeForBackup"""
        self.check_backup_context('InitializeForBackup')

    def test_after_set_context(self):
        """requester SIGKILLed after SetContext"""
        self.check_backup_context('SetContext')

    def test_after_gather_writer_metadata(self):
        """requester SIGKILLed after GatherWriterMetadata"""
        self.check_backup_context('GatherWriterMetadata')

    def test_after_start_snapshot_set(self):
        """requester SIGKILLed after StartSnapshotSet (holding the set lock)"""
        self.check_backup_context('StartSnapshotSet')

    def test_after_add_to_snapshot_set(self):
        """requester SIGKILLed after AddToSnapshotSet"""
        self.check_backup_context('AddToSnapshotSet')

    def test_after_prepare_for_backup(self):
        """requester SIGKILLed after PrepareForBackup"""
        self.check_backup_context('PrepareForBackup')

    def test_after_do_snapshot_set(self):
        """requester SIGKILLed after DoSnapshotSet (snapshot made, not completed)"""
        self.check_backup_context('DoSnapshotSet')

    def test_after_backup_complete(self):
        """requester SIGKILLed after BackupComplete"""
        self.check_backup_context('BackupComplete')

    def test_after_release(self):
        """requester SIGKILLed after Release"""
        self.check_backup_context('Release')

    def test_after_do_snapshot_set_persistent(self):
        """requester SIGKILLed after DoSnapshotSet of a persistent set: the set goes"""
        volume, writer = self.kill_after('DoSnapshotSet', context='persistent')
        # never completed, so nothing was kept (rule 8)
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        self.assertSurvived(writers=[writer])

    def test_after_backup_complete_persistent(self):
        """requester SIGKILLed after BackupComplete of a persistent set: the set stays"""
        volume, writer = self.kill_after('BackupComplete', context='persistent')
        [snapshot] = self.snapshots_on_disk(volume)
        self.assertEqual(len(self.records()), 1)
        [props] = self.snapshot_objects(self.client()).values()
        self.assertEqual(props['Id'], snapshot)
        self.assertSurvived(writers=[writer])

    def test_while_frozen(self):
        """requester SIGKILLed while its DoSnapshotSet runs and writers are frozen"""
        volume = self.subvolume('data')
        requester = None

        def freeze(writer, event):
            # the requester dies while every writer is frozen
            os.kill(requester.pid, signal.SIGKILL)
            GLib.timeout_add(200, lambda: (writer.ack(event.serial), False)[1])

        writer = self.writer('w', script={'Freeze': freeze})
        requester = self.requester_process([volume])
        self.assertEqual(requester.wait_exit(), -signal.SIGKILL)
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'PrepareForSnapshot',
                                          'Freeze', 'Abort', 'BackupShutdown'])
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertSurvived(writers=[writer])


# ---- vssd killed during DoSnapshotSet, then restarted ------------------------------------

class ServiceKilledTest(ReliabilityTestCase):
    """vssd SIGKILLed in each phase of DoSnapshotSet, with library writers in processes,
    then started again. A persistent set made before must survive the crash."""

    category = 'vssd killed'

    def kill_in(self, event, context='backup'):
        self.kept_volume = self.subvolume('kept', {'f': b'kept'})
        self.volume = self.subvolume('data', {'db': b'rows'})
        # a complete persistent set from before, that must outlive the crash
        self.kept_set = self.full_backup([self.kept_volume], context='persistent')
        # two library writers: one never answers @event, one answers everything
        self.hanging = self.writer_process('hanging', '--hang-at', event)
        self.other = self.writer_process('other')
        self.writers = [self.hanging, self.other]

        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume], context=context)
        self.pending = backup.call_async('DoSnapshotSet')
        for process in self.writers:
            for name in process.names:
                process.wait_for_line(rf'event {event} {name} {re.escape(backup.path)}')
        # what the crash leaves behind
        self.records_before = self.read_records()
        self.snapshots_before = self.snapshots_on_disk(self.volume)
        self.frozen_before = {p.name: p.frozen_writers() for p in self.writers}
        self.killed_at = time.monotonic()
        self.vssd.kill()
        self.assertEqual(self.pending.error_name(), 'org.freedesktop.DBus.Error.NoReply')
        return backup

    def restart_and_check(self):
        # writers let themselves go; no one stays frozen
        for process in self.writers:
            self.assertEventually(lambda p=process: not p.frozen_writers(),
                                  f'{process.name} to thaw by itself', 5)
        self.vssd.start()
        # the library registers its writers again with the new vssd
        for process in self.writers:
            process.wait_for_line(f'registered {process.name}', count=2)
        # incomplete and backup-context sets are gone; the persistent set is listed
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        listed = self.snapshot_objects(self.client())
        self.assertEqual(sorted(p['SnapshotSetId'] for p in listed.values()), [self.kept_set])
        self.assertEqual(len(self.snapshots_on_disk(self.kept_volume)), 1)
        self.assertEqual(self.records(), [self.kept_set + '.set'])
        self.assertSurvived(processes=self.writers, backups_ended=False)
        # and the writers take part in the next backup
        self.full_backup([self.volume])
        for process in self.writers:
            self.assertEventually(lambda p=process: p.count_of('BackupShutdown') == 1,
                                  f'{process.name} to take part in a backup after the restart')
        self.assertSurvived(processes=self.writers)

    def test_in_prepare_for_snapshot(self):
        """vssd SIGKILLed while writers handle PrepareForSnapshot, then restarted"""
        self.kill_in('PrepareForSnapshot')
        self.assertEqual(self.frozen_before, {'hanging': [], 'other': []})
        self.assertEqual(self.snapshots_before, [])
        self.note('left by the crash', f'{len(self.records_before) - 1} record(s), '
                  f'{len(self.snapshots_before)} snapshot(s)')
        self.restart_and_check()

    def test_in_freeze(self):
        """vssd SIGKILLed while writers are frozen (before the snapshot), then restarted"""
        self.kill_in('Freeze')
        self.assertEqual(self.frozen_before, {'hanging': ['hanging'], 'other': ['other']})
        self.assertEqual(self.snapshots_before, [])
        # the library writers notice the service left and thaw by themselves
        for process in self.writers:
            line = process.wait_for_line(rf'self-abort {process.name} .*', timeout=5)
            self.assertIn('left the bus', line)
            [when] = [t for t, text in process.timed_lines() if text == line]
            self.assertLess(when - self.killed_at, 1.0)
            self.note(f'{process.name} thawed itself after', f'{when - self.killed_at:.3f} s')
        self.note('left by the crash', f'{len(self.records_before) - 1} record(s), '
                  f'{len(self.snapshots_before)} snapshot(s)')
        self.restart_and_check()

    def test_in_thaw(self):
        """vssd SIGKILLed after the snapshot was taken, a writer hanging in Thaw, then restarted"""
        self.kill_in('Thaw')
        self.assertEqual(len(self.snapshots_before), 1)
        [record] = [r for s, r in self.records_before.items() if s != self.kept_set]
        self.assertFalse(record['complete'])
        self.note('left by the crash', '1 incomplete record, 1 snapshot')
        self.restart_and_check()

    def test_in_post_snapshot(self):
        """vssd SIGKILLed while writers handle PostSnapshot: the snapshot is still writable"""
        self.kill_in('PostSnapshot')
        self.assertEqual(len(self.snapshots_before), 1)
        [record] = [r for s, r in self.records_before.items() if s != self.kept_set]
        # writers may still add files (docs/design.md §4c): not complete yet
        self.assertFalse(record['complete'])
        self.assertFalse(self.read_only(self.volume, self.snapshots_before[0]))
        self.note('left by the crash', '1 incomplete record, 1 writable snapshot')
        self.restart_and_check()

    def test_in_post_snapshot_persistent(self):
        """vssd SIGKILLed between the snapshot and read-only, persistent: the set goes"""
        self.kill_in('PostSnapshot', context='persistent')
        [record] = [r for s, r in self.records_before.items() if s != self.kept_set]
        self.assertFalse(record['complete'])
        self.assertFalse(self.read_only(self.volume, self.snapshots_before[0]))
        self.note('left by the crash', '1 incomplete persistent record, 1 writable snapshot')
        # a set whose snapshots are still writable is incomplete, whatever its
        # context: deleted at the next start
        self.restart_and_check()

    def read_only(self, volume, snapshot_id):
        return btrfsutil.get_subvolume_read_only(
            os.path.join(volume, '.vss-snapshots', snapshot_id))

    def test_answer_to_the_dead_vssd_is_not_taken_by_the_new_one(self):
        """a writer's answer owed to the killed vssd is not taken for an event of the new one"""
        volume = self.subvolume('data')
        # the application defers PrepareForSnapshot (a slow flush); when the
        # next PrepareForSnapshot comes, it gives the old one up (fails it)
        slow = self.writer_process('slow', '--hang-at', 'PrepareForSnapshot',
                                   '--fail-held-on', 'PrepareForSnapshot')
        first = self.requester()
        self.backup_until_prepared(first, [volume])
        pending = first.call_async('DoSnapshotSet')
        slow.wait_for_line(rf'event PrepareForSnapshot slow {re.escape(first.path)}')
        self.vssd.kill()
        self.assertEqual(pending.error_name(), 'org.freedesktop.DBus.Error.NoReply')
        self.vssd.start()
        slow.wait_for_line('registered slow', count=2)

        # the requester tries again with the new vssd
        second = self.requester()
        self.backup_until_prepared(second, [volume])
        call = second.call_async('DoSnapshotSet')
        outcome = call.error_name()
        self.note('requester saw', f'DoSnapshotSet: {outcome or "succeeded"}'
                  + (f': {call.error.message}' if call.error else ''))
        if outcome is None:
            second.BackupComplete()
        else:
            second.AbortBackup()
        second.Release()
        self.assertSurvived(processes=[slow])
        # the failure was of an event of the dead vssd: the new backup, whose
        # PrepareForSnapshot the writer acknowledged, must not fail from it
        self.assertIsNone(outcome, call.error)

# ---- the filesystem ---------------------------------------------------------------------------

class FilesystemTest(ReliabilityTestCase):
    category = 'filesystem'

    def fill(self, image, volume):
        """Fills data, then metadata, then the room left for snapshots."""
        # data: one file until ENOSPC
        chunk = b'\xa5' * (1 << 20)
        with open(os.path.join(volume, 'filler'), 'wb') as f:
            try:
                while True:
                    f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:
                self.assertEqual(e.errno, 28)
        # metadata: directories with long names until ENOSPC
        tree = os.path.join(volume, 'meta')
        os.mkdir(tree)
        n = 0
        try:
            while True:
                os.mkdir(os.path.join(tree, f'{n:08d}' + 'm' * 240))
                n += 1
        except OSError as e:
            self.assertEqual(e.errno, 28)
        os.sync()
        # btrfs keeps a reserve that snapshots may still use: use it up
        scratch = image.path('scratch')
        btrfsutil.create_subvolume(scratch)
        taken = 0
        try:
            while taken < 10000:
                btrfsutil.create_snapshot(scratch, image.path(f'eat-{taken}'), read_only=True)
                taken += 1
        except btrfsutil.BtrfsUtilError as e:
            self.assertEqual(e.errno, 28)
        self.note('filled with', f'{n} directories, {taken} snapshots eaten the reserve')

    def check_full(self, first_snapshot):
        image = self.extra_btrfs()
        volume = image.path('data')
        btrfsutil.create_subvolume(volume)
        writer = self.writer('w')
        if not first_snapshot:
            # .vss-snapshots exists already, with a persistent set in it
            kept = self.full_backup([volume], context='persistent')
            self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.fill(image, volume)
        events_before = len(writer.events)
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        error = self.assertCallFails('ProviderFailure', backup.DoSnapshotSet)
        self.assertIn(volume, error.message)
        self.assertIn('no space left on the filesystem', error.message)
        self.note('requester saw', f'DoSnapshotSet: ProviderFailure: {error.message}')
        self.assertEqual(backup.state, 'snapshot-failed')
        # a provider failure after PrepareForSnapshot makes the service abort (rule 3)
        names = writer.names()[events_before:]
        self.assertEqual(names.count('Abort'), 1, names)
        self.assertNotIn('Thaw', names)
        self.assertLogged(rf'{re.escape(backup.path)}: aborting: .*no space left on the filesystem')
        backup.AbortBackup()
        backup.Release()
        if first_snapshot:
            self.assertEqual(self.snapshots_on_disk(volume), [])
            self.assertEqual(self.records(), [])
        else:
            self.assertEqual(self.records(), [kept + '.set'])
        self.assertSurvived(writers=[writer])

    def test_full_when_the_snapshot_is_taken(self):
        """filesystem full (data, metadata, reserve) when the snapshot is taken"""
        self.check_full(first_snapshot=False)

    def test_full_before_the_first_snapshot(self):
        """filesystem full before .vss-snapshots could be made"""
        self.check_full(first_snapshot=True)

    def remount(self, image):
        subprocess.run(['mount', '-o', 'loop', image.image, image.mountpoint], check=True)
        image.mounted = True

    def test_not_mounted_when_vssd_starts(self):
        """filesystem of a persistent set not mounted (yet) when vssd starts"""
        image = self.extra_btrfs()
        volume = image.path('data')
        btrfsutil.create_subvolume(volume)
        set_id = self.full_backup([volume], context='persistent')
        [snapshot] = self.snapshots_on_disk(volume)
        self.assertEqual(self.vssd.stop(), 0)
        # vssd starts while the filesystem is away (boot order, a USB disk,
        # an admin's maintenance), then the filesystem comes back
        subprocess.run(['umount', image.mountpoint], check=True)
        image.mounted = False
        self.vssd.start()
        listed_while_away = len(self.snapshot_objects(self.client()))
        self.assertEqual(self.vssd.stop(), 0)
        self.remount(image)
        self.vssd.start()
        self.assertEqual(self.snapshots_on_disk(volume), [snapshot])
        listed = [p['SnapshotSetId'] for p in self.snapshot_objects(self.client()).values()]
        self.note('vssd saw', f'{listed_while_away} snapshot(s) listed while the filesystem was '
                  f'away, {len(listed)} after it came back; records: {len(self.records())}')
        # the snapshot is still there, so must be its record
        self.assertSurvived()
        self.assertEqual(listed, [set_id])

    def test_not_mounted_when_vssd_restarts_after_a_crash(self):
        """vssd killed with a snapshot made; its filesystem not mounted when vssd restarts"""
        image = self.extra_btrfs()
        volume = image.path('data')
        btrfsutil.create_subvolume(volume)
        writer = self.writer('w', script={'Thaw': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.call_async('DoSnapshotSet')
        writer.wait_for('Thaw')
        self.assertEqual(len(self.snapshots_on_disk(volume)), 1)
        self.vssd.kill()
        subprocess.run(['umount', image.mountpoint], check=True)
        image.mounted = False
        self.vssd.start()
        self.assertEqual(self.vssd.stop(), 0)
        self.remount(image)
        self.vssd.start()
        left = self.snapshots_on_disk(volume)
        self.note('after the filesystem came back', f'{len(left)} snapshot(s) on disk, '
                  f'{len(self.records())} record(s)')
        # the incomplete set is cleaned up once its filesystem is back
        self.assertSurvived(writers=[writer], backups_ended=False)
        self.assertEqual(left, [])

    def test_subvolume_deleted_before_do_snapshot_set(self):
        """subvolume deleted between AddToSnapshotSet and DoSnapshotSet"""
        volume = self.subvolume('doomed', {'f': b'x'})
        writer = self.writer('w')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.btrfs.delete_subvolume_tree(volume)
        error = self.assertCallFails('ProviderFailure', backup.DoSnapshotSet)
        self.assertIn(volume, error.message)
        self.note('requester saw', f'DoSnapshotSet: ProviderFailure: {error.message}')
        backup.AbortBackup()
        backup.Release()
        self.assertFalse(os.path.exists(volume))
        self.assertEqual(self.records(), [])
        # a provider failure after PrepareForSnapshot: vssd sends Abort (rule 3)
        self.assertEqual(writer.count('Abort'), 1)
        self.assertNotIn('Freeze', writer.names())
        self.assertSurvived(writers=[writer])

    def test_subvolume_made_read_only_before_do_snapshot_set(self):
        """subvolume made read-only between AddToSnapshotSet and DoSnapshotSet"""
        volume = self.subvolume('frozen-solid', {'f': b'x'})
        writer = self.writer('w')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        btrfsutil.set_subvolume_read_only(volume, True)
        self.addCleanup(btrfsutil.set_subvolume_read_only, volume, False)
        error = self.assertCallFails('ProviderFailure', backup.DoSnapshotSet)
        self.assertIn(volume, error.message)
        self.assertRegex(error.message, '(?i)read-only')
        self.note('requester saw', f'DoSnapshotSet: ProviderFailure: {error.message}')
        self.assertEqual(writer.names().count('Abort'), 1)
        self.assertNotIn('Freeze', writer.names())
        backup.AbortBackup()
        backup.Release()
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertSurvived(writers=[writer])


# ---- a writer that answers late ---------------------------------------------------------------

class LateAnswerTest(ReliabilityTestCase):
    """A writer answers after its timeout: the answer is refused, nothing breaks."""

    category = 'late answer'
    EVENT_TIMEOUT_MS = 200
    FREEZE_TIMEOUT_MS = 300
    LATE_MS = 700

    def start(self, event):
        def late(writer, ev):
            GLib.timeout_add(self.LATE_MS, lambda: (writer.ack(ev.serial), False)[1])

        self.volume = self.subvolume('data')
        self.prompt = self.writer('prompt')
        self.late = self.writer('late', options={'event-timeout-ms': self.EVENT_TIMEOUT_MS,
                                                 'freeze-timeout-ms': self.FREEZE_TIMEOUT_MS},
                                script={event: late})
        self.backup = self.requester()

    def late_answer_refused(self, event):
        # the late Ack comes, is refused with BadState, and changes nothing
        self.assertEventually(lambda: self.late.reply_errors, 'the late answer', 5)
        self.assertEqual([e.name for e in self.late.reply_errors], ['BadState'])
        self.assertLogged(rf"{re.escape(self.backup.path)}: writer 'late' failed {event} "
                          rf"\(timeout\)")

    def finish(self, expected_late_events):
        self.backup.Release()
        self.prompt.wait_for('BackupShutdown')
        self.assertEqual(self.late.names(), expected_late_events)
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.assertSurvived(writers=[self.prompt, self.late])

    def test_identify(self):
        """writer answers Identify after its event timeout"""
        self.start('Identify')
        self.backup.InitializeForBackup()
        writers = self.backup.GatherWriterMetadata()
        self.assertEqual([name for _, name, _ in writers], ['prompt'])
        self.late_answer_refused('Identify')
        self.backup.StartSnapshotSet()
        self.backup.AddToSnapshotSet(self.volume)
        self.backup.PrepareForBackup()
        self.backup.DoSnapshotSet()
        self.backup.BackupComplete()
        self.note('requester saw', 'the late writer left out of the backup')
        self.finish(['Identify'])

    def test_prepare_for_backup(self):
        """writer answers PrepareForBackup after its event timeout"""
        self.start('PrepareForBackup')
        self.backup.InitializeForBackup()
        self.backup.GatherWriterMetadata()
        self.backup.StartSnapshotSet()
        self.backup.AddToSnapshotSet(self.volume)
        error = self.assertCallFails('WriterFailure', self.backup.PrepareForBackup)
        self.assertIn("'late'", error.message)
        self.assertEqual(self.backup.status_of(self.late)[:2],
                         ('failed-at-prepare-backup', 'timeout'))
        self.late_answer_refused('PrepareForBackup')
        self.backup.AbortBackup()
        self.note('requester saw', 'PrepareForBackup: WriterFailure (timeout)')
        self.finish(['Identify', 'PrepareForBackup', 'Abort', 'BackupShutdown'])

    def test_prepare_for_snapshot(self):
        """writer answers PrepareForSnapshot after its event timeout"""
        self.start('PrepareForSnapshot')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.assertIn("'late'", error.message)
        self.late_answer_refused('PrepareForSnapshot')
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure (timeout)')
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Abort',
                     'BackupShutdown'])

    def test_freeze(self):
        """writer answers Freeze after its freeze timeout"""
        self.start('Freeze')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.assertIn("'late'", error.message)
        self.assertIn('timeout', error.message)
        self.late_answer_refused('Freeze')
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure (timeout), Abort sent')
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Abort',
                     'BackupShutdown'])

    def test_thaw(self):
        """writer answers Thaw after its freeze window closed"""
        self.start('Thaw')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.assertIn("'late'", error.message)
        self.late_answer_refused('Thaw')
        self.assertEqual(self.snapshots_on_disk(self.volume), [])
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure (timeout), Abort sent')
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
                     'Abort', 'BackupShutdown'])

    def test_post_snapshot(self):
        """writer answers PostSnapshot after its event timeout"""
        self.start('PostSnapshot')
        self.backup_until_prepared(self.backup, [self.volume])
        error = self.assertCallFails('WriterFailure', self.backup.DoSnapshotSet)
        self.assertIn("'late'", error.message)
        self.late_answer_refused('PostSnapshot')
        self.backup.AbortBackup()
        self.note('requester saw', 'DoSnapshotSet: WriterFailure (timeout)')
        # a PostSnapshot that timed out was not completed: the requester's
        # AbortBackup reaches the late writer (rule 2), not the prompt one (rule 5)
        self.assertEqual(self.prompt.count('Abort'), 0)
        self.finish(['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
                     'PostSnapshot', 'Abort', 'BackupShutdown'])


# ---- races between requesters ------------------------------------------------------------------

class RaceTest(ReliabilityTestCase):
    category = 'race'

    def test_two_requesters_race_for_start_snapshot_set(self):
        """two requesters call StartSnapshotSet at the same moment"""
        volume = self.subvolume('data')
        writer = self.writer('w')
        first, second = self.requester(), self.requester()
        for backup in (first, second):
            backup.InitializeForBackup()
            backup.GatherWriterMetadata()
        calls = [backup.call_async('StartSnapshotSet') for backup in (first, second)]
        errors = [call.error_name() for call in calls]
        # exactly one wins (rule 10)
        self.assertEqual(sorted(errors, key=str), sorted([None, 'SnapshotSetInProgress'],
                                                         key=str))
        winner, loser = (first, second) if errors[0] is None else (second, first)
        self.assertEqual(loser.state, 'metadata-gathered')
        winner.AddToSnapshotSet(volume)
        winner.PrepareForBackup()
        winner.DoSnapshotSet()
        # a set made, the loser may start its own
        loser.StartSnapshotSet()
        loser.AddToSnapshotSet(self.subvolume('other'))
        loser.PrepareForBackup()
        loser.DoSnapshotSet()
        for backup in (winner, loser):
            backup.BackupComplete()
            backup.Release()
        self.assertEqual(writer.count('BackupShutdown'), 2)
        self.assertSurvived(writers=[writer])

    def abort_while_do_snapshot_set_runs_in(self, event):
        volume = self.subvolume('data')
        a = self.writer('a')
        slow = self.writer('slow', script={event: 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        pending = backup.call_async('DoSnapshotSet')
        slow.wait_for(event)
        backup.AbortBackup()
        # rule 11: DoSnapshotSet is cancelled, nothing it made is left
        self.assertCallFails('Aborted', pending)
        self.assertEqual(backup.state, 'aborted')
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])
        self.assertEqual(slow.count('Abort'), 1)
        self.assertLessEqual(a.count('Abort'), 1)
        # the answer the slow writer still owed comes now, and is refused
        self.assertEqual(slow.ack(slow.pending[0].serial).error_name(), 'BadState')
        self.assertLogged(rf'{re.escape(backup.path)}: aborting: the requester called '
                          r'AbortBackup')
        backup.Release()
        self.note('requester saw', 'DoSnapshotSet: Aborted')
        self.assertSurvived(writers=[a, slow])

    def test_release_during_do_snapshot_set(self):
        """Release while DoSnapshotSet waits for Freeze (writers frozen)"""
        volume = self.subvolume('data')
        a = self.writer('a')
        slow = self.writer('slow', script={'Freeze': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        pending = backup.call_async('DoSnapshotSet')
        slow.wait_for('Freeze')
        # rule 8: an abandoned backup is aborted, then shut down
        backup.Release()
        self.assertCallFails('Aborted', pending)
        for writer in (a, slow):
            writer.wait_for('BackupShutdown')
            self.assertEqual(writer.names()[-2:], ['Abort', 'BackupShutdown'])
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.note('requester saw', 'DoSnapshotSet: Aborted; Release succeeded')
        self.assertSurvived(writers=[a, slow])

    def test_abort_during_prepare_for_snapshot(self):
        """AbortBackup while DoSnapshotSet waits for PrepareForSnapshot"""
        self.abort_while_do_snapshot_set_runs_in('PrepareForSnapshot')

    def test_abort_during_freeze(self):
        """AbortBackup while DoSnapshotSet waits for Freeze (writers frozen)"""
        self.abort_while_do_snapshot_set_runs_in('Freeze')

    def test_abort_during_thaw(self):
        """AbortBackup while DoSnapshotSet waits for Thaw (snapshot made)"""
        self.abort_while_do_snapshot_set_runs_in('Thaw')

    def test_abort_during_post_snapshot(self):
        """AbortBackup while DoSnapshotSet waits for PostSnapshot"""
        self.abort_while_do_snapshot_set_runs_in('PostSnapshot')


# ---- logging ---------------------------------------------------------------------------------

class LoggingTest(ReliabilityTestCase):
    """What an admin reads in the journal: backup object, writer, reason."""

    category = 'logging'

    def test_every_state_change_is_logged(self):
        """the log has every state change of a backup, in order"""
        volume = self.subvolume('data')
        self.writer('w')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.DoSnapshotSet()
        backup.BackupComplete()
        path = backup.path
        backup.Release()
        changes = re.findall(rf'{re.escape(path)}: (\S+) → (\S+)', self.vssd.log())
        self.assertEqual(changes, [
            ('created', 'initialized'), ('initialized', 'metadata-gathered'),
            ('metadata-gathered', 'snapshot-set-started'), ('snapshot-set-started', 'prepared'),
            ('prepared', 'snapshotting'), ('snapshotting', 'snapshot-created'),
            ('snapshot-created', 'completed')])
        self.assertLogged(rf'{re.escape(path)}: released \(the requester called Release\)')
        self.assertSurvived()

    def test_veto_is_logged_with_backup_writer_and_reason(self):
        """a veto: the log names the backup, the writer and its reason"""
        volume = self.subvolume('data')
        self.writer('db', script={'Freeze': ('fail', 'retryable', 'table locked by vacuum')})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        path = re.escape(backup.path)
        self.assertLogged(rf"{path}: writer 'db' failed Freeze \(retryable\): "
                          r"table locked by vacuum")
        self.assertLogged(rf"{path}: aborting: writer 'db' failed Freeze \(retryable\): "
                          r"table locked by vacuum")
        self.assertLogged(rf'{path}: snapshotting → snapshot-failed')
        backup.AbortBackup()
        self.assertLogged(rf'{path}: snapshot-failed → aborted')
        backup.Release()
        self.assertSurvived()

    def test_freeze_timeout_is_logged(self):
        """a freeze timeout: the log names the backup, the writer and the timeout"""
        volume = self.subvolume('data')
        self.writer('stuck', options={'freeze-timeout-ms': 300}, script={'Freeze': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
        self.assertLogged(rf"{re.escape(backup.path)}: aborting: writer 'stuck' failed Freeze "
                          r"\(timeout\)")
        backup.Release()
        self.assertSurvived()

    def test_requester_disconnect_is_logged(self):
        """a requester that vanishes: the log says which backup and why it was aborted"""
        volume = self.subvolume('data')
        self.writer('w')
        backup = self.requester()
        self.backup_until_prepared(backup, [volume])
        backup.client.close()
        self.assertLogged(rf'{re.escape(backup.path)}: aborting: .* left the bus')
        self.assertLogged(rf'{re.escape(backup.path)}: prepared → aborted')
        self.assertSurvived()


# ---- load ------------------------------------------------------------------------------------

def vmrss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS')


def fd_count(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


class LoadTest(ReliabilityTestCase):
    category = 'load'

    N_PROCESSES = 4
    WRITERS_PER_PROCESS = 25
    CYCLES = 200
    BASELINE_AFTER = 20

    def test_200_cycles_with_100_writers(self):
        """200 backup cycles (completed, vetoed, aborted) with 100 writers in 4 processes"""
        volume = self.subvolume('data', {'db': b'rows'})
        processes = [self.writer_process(f'load{i}', count=self.WRITERS_PER_PROCESS, wait=False)
                     for i in range(self.N_PROCESSES)]
        for process in processes:
            process.wait_for_line('ready', timeout=120)
        veto = {'now': False}

        def freeze(writer, event):
            if veto['now']:
                writer.fail(event.serial, 'retryable', 'vetoed by the load test')
            else:
                writer.ack(event.serial)

        switch = self.writer('veto switch', script={'Freeze': freeze})
        requester = self.client()
        pid = self.vssd.process.pid
        # 3 of 5 complete, 1 vetoed, 1 aborted after PrepareForBackup
        plan = ['complete', 'veto', 'complete', 'abort', 'complete']
        durations = {kind: [] for kind in plan}
        baseline = None
        start = time.monotonic()
        for cycle in range(self.CYCLES):
            kind = plan[cycle % len(plan)]
            t0 = time.monotonic()
            backup = requester.create_backup()
            backup.InitializeForBackup()
            writers = backup.GatherWriterMetadata()
            self.assertEqual(len(writers), self.N_PROCESSES * self.WRITERS_PER_PROCESS + 1)
            backup.StartSnapshotSet()
            backup.AddToSnapshotSet(volume)
            backup.PrepareForBackup()
            if kind == 'complete':
                backup.DoSnapshotSet()
                self.assertEqual(backup.state, 'snapshot-created')
                backup.BackupComplete()
                self.assertEqual(backup.state, 'completed')
            elif kind == 'veto':
                veto['now'] = True
                self.assertCallFails('WriterFailure', backup.DoSnapshotSet)
                veto['now'] = False
                backup.AbortBackup()
                self.assertEqual(backup.state, 'aborted')
            else:
                backup.AbortBackup()
                self.assertEqual(backup.state, 'aborted')
            backup.Release()
            # every cycle ends right: nothing left on disk, no record
            self.assertEqual(self.snapshots_on_disk(volume), [], f'cycle {cycle}')
            self.assertEqual(self.records(), [], f'cycle {cycle}')
            self.assertFalse(switch.is_frozen())
            durations[kind].append(time.monotonic() - t0)
            if cycle + 1 == self.BASELINE_AFTER:
                baseline = (vmrss_kib(pid), fd_count(pid))
        total = time.monotonic() - start
        after = (vmrss_kib(pid), fd_count(pid))

        # every writer saw every cycle end: 200 BackupShutdown, an Abort per
        # vetoed or aborted cycle, and nobody frozen
        n_complete = len(durations['complete'])
        n_aborted = self.CYCLES - n_complete
        for process in processes:
            for name in process.names:
                self.assertEventually(
                    lambda p=process, n=name: p.count_of('BackupShutdown', n) == self.CYCLES,
                    f'{name} to get {self.CYCLES} BackupShutdown', 30)
                self.assertEqual(process.count_of('Abort', name), n_aborted, name)
                self.assertEqual(process.count_of('BackupComplete', name), n_complete, name)
            self.assertEqual(process.frozen_writers(), [])
        self.assertEqual(switch.count('BackupShutdown'), self.CYCLES)

        rss_growth = (after[0] - baseline[0]) / baseline[0]
        self.note('vssd VmRSS', f'{baseline[0]} KiB after {self.BASELINE_AFTER} cycles, '
                  f'{after[0]} KiB after {self.CYCLES} ({rss_growth:+.1%})')
        self.note('vssd fds', f'{baseline[1]} after {self.BASELINE_AFTER} cycles, '
                  f'{after[1]} after {self.CYCLES}')
        self.note('cycle time', ', '.join(
            f'{kind} {statistics.mean(d) * 1000:.0f} ms (max {max(d) * 1000:.0f})'
            for kind, d in durations.items() if d))
        self.note('total', f'{total:.1f} s for {self.CYCLES} cycles')
        sys.stderr.write(f'\nload: {self.notes}\n')
        self.assertLessEqual(abs(rss_growth), 0.10, self.notes['vssd VmRSS'])
        self.assertLessEqual(after[1], baseline[1], self.notes['vssd fds'])
        self.assertSurvived(writers=[switch], processes=processes)

    def test_20_requesters_hammering_during_backups(self):
        """20 requesters hammer CreateBackupComponents/Release while backups run"""
        volume = self.subvolume('data', {'db': b'rows'})
        process = self.writer_process('steady', count=10)
        window = {}

        def slow_freeze(writer, event):
            # a frozen window of 300 ms, hammered throughout
            window['hammered at freeze'] = hammered[0]
            GLib.timeout_add(300, lambda: (writer.ack(event.serial), False)[1])

        def thaw(writer, event):
            window.setdefault('during freeze', []).append(hammered[0] -
                                                          window['hammered at freeze'])
            writer.ack(event.serial)

        slow = self.writer('slow', script={'Freeze': slow_freeze, 'Thaw': thaw})
        hammered = [0]
        errors = []
        stop = {'now': False}
        in_flight = {'n': 0}

        def hammer(client):
            if stop['now']:
                return
            in_flight['n'] += 1

            def created(call):
                if call.error is not None:
                    errors.append(f'CreateBackupComponents: {call.error}')
                    in_flight['n'] -= 1
                    return
                path = call.result.unpack()[0]
                client.call_async(path, BACKUP_IFACE, 'Release', on_done=released)

            def released(call):
                in_flight['n'] -= 1
                if call.error is not None:
                    errors.append(f'Release: {call.error}')
                    return
                hammered[0] += 1
                hammer(client)

            client.call_async(VSS_PATH, MANAGER_IFACE, 'CreateBackupComponents',
                              GLib.Variant('(a{sv})', ({},)), on_done=created)

        hammers = [self.client() for _ in range(20)]
        for client in hammers:
            hammer(client)
        backups = 5
        start = time.monotonic()
        for _ in range(backups):
            backup = self.requester()
            self.backup_until_prepared(backup, [volume])
            backup.DoSnapshotSet()
            self.assertEqual(backup.state, 'snapshot-created')
            backup.BackupComplete()
            self.assertEqual(backup.state, 'completed')
            backup.Release()
            backup.client.close()
        elapsed = time.monotonic() - start
        stop['now'] = True
        self.assertEventually(lambda: in_flight['n'] == 0, 'the hammering to stop')
        self.assertEqual(errors, [])
        # the backups ran right: each writer saw exactly the full cycles, no
        # event came from the hammering requesters
        self.assertEqual(slow.names(), FULL_CYCLE * backups)
        for name in process.names:
            self.assertEventually(lambda n=name: process.names_of(n) == FULL_CYCLE * backups,
                                  f'{name} to see {backups} full cycles')
        self.assertTrue(all(n > 0 for n in window['during freeze']), window)
        # nor did it stretch the freeze window (300 ms of the writer's own)
        windows = [t.time - f.time for f, t in zip(
            [e for e in slow.events if e.name == 'Freeze'],
            [e for e in slow.events if e.name == 'Thaw'])]
        self.assertLess(max(windows), 0.3 + 0.5, windows)
        self.note('hammering', f'{hammered[0]} CreateBackupComponents/Release pairs in '
                  f'{elapsed:.1f} s, {min(window["during freeze"])}+ during each 300 ms freeze; '
                  f'freeze window {min(windows) * 1000:.0f}-{max(windows) * 1000:.0f} ms')
        self.assertSurvived(writers=[slow], processes=[process])


if __name__ == '__main__':
    unittest.main()
