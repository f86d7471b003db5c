#!/usr/bin/python3
"""vss-writer-hooks against a real vssd: order, veto, timeout, abort, vssd
dying while frozen, path scoping, and Debian qemu-guest-agent's
fsfreeze-hook dispatcher run unchanged."""

import os
import shutil
import stat
import tempfile
import time
import unittest

from writertest import WriterTestCase

SCRIPT = '''#!/bin/sh
echo "{name} $1" >> {journal}
{body}
'''


def alive(pid, timeout=2):
    """Whether pid still runs after timeout s (a zombie waiting for init to
    reap it does not count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f'/proc/{pid}/stat') as f:
                if f.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


class HooksWriterTest(WriterTestCase):
    def setUp(self):
        super().setUp()
        self.volume = self.subvolume('data', {'table': b'rows'})
        self.hooks = tempfile.mkdtemp(prefix='hooks-', dir=self.state_dir)
        self.journal = os.path.join(self.state_dir, 'hooks-journal')
        open(self.journal, 'w').close()

    def script(self, name, body='', directory=None, executable=True):
        path = os.path.join(directory or self.hooks, name)
        with open(path, 'w') as f:
            f.write(SCRIPT.format(name=name, journal=self.journal, body=body))
        os.chmod(path, 0o755 if executable else 0o644)
        return path

    def calls(self):
        with open(self.journal) as f:
            return f.read().split('\n')[:-1]

    def start(self, *args):
        return self.start_writer('hooks', '--dir', self.hooks, '--path', self.volume, *args)

    def test_freeze_in_name_order_thaw_in_reverse_around_the_snapshot(self):
        marker = os.path.join(self.volume, 'state')
        self.script('20-b', f'[ "$1" = freeze ] && echo frozen > {marker}\n'
                            f'[ "$1" = thaw ] && echo thawed > {marker}\nexit 0')
        self.script('10-a')
        self.script('30-c')
        # not run: not executable, a package manager's leftover, a directory, a dotfile
        self.script('15-plain', executable=False)
        self.script('25-old.dpkg-old')
        self.script('.hidden')
        os.mkdir(os.path.join(self.hooks, '40-dir'))
        os.chmod(os.path.join(self.hooks, '40-dir'), 0o755)
        self.start()

        seen = {}
        def inspect(snapshots):
            with open(os.path.join(snapshots[self.volume], 'state')) as f:
                seen['state'] = f.read()
        self.backup([self.volume], inspect=inspect)
        self.assertEqual(self.calls(), ['10-a freeze', '20-b freeze', '30-c freeze',
                                        '30-c thaw', '20-b thaw', '10-a thaw'])
        # the snapshot was taken between freeze and thaw
        self.assertEqual(seen['state'], 'frozen\n')
        with open(marker) as f:
            self.assertEqual(f.read(), 'thawed\n')

    def test_failing_freeze_vetoes_with_its_stderr_and_the_others_thaw(self):
        self.script('10-a')
        self.script('20-b', '[ "$1" = freeze ] && { echo "the database is busy" >&2; exit 3; }')
        self.script('30-c')
        self.start()
        with self.assertRaises(Exception) as cm:
            self.backup([self.volume])
        self.assertEqual(cm.exception.name, 'WriterFailure')
        state, failure, message = self.status_message('hooks')
        self.assertEqual((state, failure, message),
                         ('failed-at-freeze', 'retryable', 'the database is busy'))
        # 30-c never froze; 20-b failed its freeze, so only 10-a is thawed
        self.assertEqual(self.calls(), ['10-a freeze', '20-b freeze', '10-a thaw'])
        self.assertEqual(self.snapshots_on_disk(self.volume), [])

    def test_script_that_hangs_in_freeze_is_killed_at_the_freeze_timeout(self):
        self.script('10-a')
        pid_file = os.path.join(self.state_dir, 'sleeper')
        # a child that would outlive its script: killed with it
        self.script('20-hang',
                    f'[ "$1" = freeze ] && {{ sleep 300 & echo $! > {pid_file}; wait; }}')
        self.start('--freeze-timeout-ms', '2000')
        started = time.monotonic()
        with self.assertRaises(Exception):
            self.backup([self.volume])
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 10)
        state, failure, _message = self.status_message('hooks')
        self.assertEqual(state, 'failed-at-freeze')
        self.assertIn(failure, ('timeout',))
        with open(pid_file) as f:
            sleeper = int(f.read())
        self.assertFalse(alive(sleeper), 'the freeze script\'s child survived it')
        self.assertEqual(self.calls(), ['10-a freeze', '20-hang freeze', '10-a thaw'])

    def test_abort_after_another_writers_veto_thaws_in_reverse(self):
        self.script('10-a')
        self.script('20-b')
        self.start()
        self.writer('vetoer', script={'Freeze': ('fail', 'retryable', 'no')})
        with self.assertRaises(Exception):
            self.backup([self.volume])
        self.assertEqual(self.calls(), ['10-a freeze', '20-b freeze', '20-b thaw', '10-a thaw'])

    def test_vssd_killed_while_frozen_thaws_and_registers_again(self):
        self.script('10-a')
        program = self.start()
        hanger = self.writer('hangs in freeze', script={'Freeze': 'hang'})
        backup = self.requester()
        self.backup_until_prepared(backup, [self.volume])
        pending = backup.call_async('DoSnapshotSet')
        hanger.wait_for('Freeze')
        program.wait_for_log(r'10-a freeze: done')
        self.assertEqual(self.calls(), ['10-a freeze'])
        self.kill_vssd_and_restart([program])
        self.assertIsNotNone(pending.error_name())
        self.assertEqual(self.calls(), ['10-a freeze', '10-a thaw'])
        # the next backup takes it in again
        hanger.close()
        self.backup([self.volume])
        self.assertEqual(self.calls(), ['10-a freeze', '10-a thaw', '10-a freeze', '10-a thaw'])

    def test_backup_of_an_unrelated_subvolume_sends_it_nothing(self):
        self.script('10-a')
        self.assert_unrelated_backup_sends_nothing(self.start())
        self.assertEqual(self.calls(), [])

    def test_a_path_below_a_subvolume_root_takes_part(self):
        # an application's directory, as usual, not a subvolume of its own
        app = os.path.join(self.volume, 'srv', 'app')
        os.makedirs(app)
        self.script('10-a')
        program = self.start_writer('hooks', '--dir', self.hooks, '--path', app)
        self.assert_unrelated_backup_sends_nothing(program)
        self.assertEqual(self.calls(), [])
        self.backup([self.volume])
        self.assertEqual(self.calls(), ['10-a freeze', '10-a thaw'])

    def test_debian_fsfreeze_hook_dispatcher_runs_unchanged(self):
        if not os.path.exists('/etc/qemu/fsfreeze-hook'):
            self.skipTest('qemu-guest-agent is not installed')
        qemu = os.path.join(self.state_dir, 'qemu')
        shutil.copytree('/etc/qemu', qemu, symlinks=True)
        hook_d = os.path.join(qemu, 'fsfreeze-hook.d')
        for name in os.listdir(hook_d):
            os.unlink(os.path.join(hook_d, name))
        self.script('mysql-flush.sh', directory=hook_d)
        self.script('zz-last.sh', directory=hook_d)
        # the dispatcher logs to /var/log/qga-fsfreeze-hook.log: give it a
        # /var/log of its own in a mount namespace of the writer's own
        log_dir = os.path.join(self.state_dir, 'log')
        os.mkdir(log_dir)
        wrapper = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c',
                   f'mount --bind {log_dir} /var/log && exec "$@"', 'sh']
        self.hooks = qemu
        self.start_writer('hooks', '--dir', qemu, '--path', self.volume, wrapper=wrapper)
        self.backup([self.volume])
        # the dispatcher runs its scripts in name order for both actions
        self.assertEqual(self.calls(), ['mysql-flush.sh freeze', 'zz-last.sh freeze',
                                        'mysql-flush.sh thaw', 'zz-last.sh thaw'])
        with open(os.path.join(log_dir, 'qga-fsfreeze-hook.log')) as f:
            dispatcher_log = f.read()
        self.assertIn('execute', dispatcher_log)
        self.assertIn(f'{hook_d}/mysql-flush.sh freeze', dispatcher_log)
        self.assertFalse(stat.S_ISREG(os.stat(hook_d).st_mode))


if __name__ == '__main__':
    unittest.main()
