#!/usr/bin/python3
"""The README's busctl walk-throughs, run as written against a running vssd."""

import os
import re
import subprocess
import unittest

from vsstest import VssTestCase, iterate_until

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'README.md')


def sh_block(word):
    """The one ```sh block of the README that says @word."""
    with open(README) as f:
        readme = f.read()
    blocks = [b for b in re.findall(r'^```sh\n(.*?)^```$', readme, re.M | re.S) if word in b]
    assert len(blocks) == 1, f'one sh block with {word} in the README'
    return blocks[0]


def busctl_walkthrough():
    return sh_block('CreateBackupComponents')


class ReadmeTest(VssTestCase):
    def test_busctl_walkthrough_works_as_written(self):
        volume = self.subvolume('srv', {'data': b'kept at freeze'})
        writer = self.writer('db')
        # the walk-through names its subvolume SUBVOL=/srv/data; point it at ours
        script = busctl_walkthrough().replace('SUBVOL=/srv/data', f'SUBVOL={volume}')
        proc = subprocess.Popen(['bash', '-e', '-x', '-c', script],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # the writer answers from this process's main loop while busctl waits
        iterate_until(lambda: proc.poll() is not None, what='the walk-through')
        output = proc.stdout.read()
        self.assertEqual(proc.returncode, 0, output)
        self.assertRegex(output, r'ao 1 "/org/freedesktop/Vss1/Snapshot/')
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'PrepareForSnapshot',
                                          'Freeze', 'Thaw', 'PostSnapshot', 'BackupComplete',
                                          'BackupShutdown'])
        # the listing showed the snapshot; Release deleted it (context backup)
        self.assertEqual(self.snapshots_on_disk(volume), [])

    def test_one_call_create_snapshot_set_works_as_written(self):
        volume = self.subvolume('srv', {'data': b'kept at freeze'})
        writer = self.writer('db')
        script = sh_block("CreateSnapshotSet 'asa{sv}'").replace('SUBVOL=/srv/data',
                                                                 f'SUBVOL={volume}')
        proc = subprocess.Popen(['bash', '-e', '-x', '-c', script],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        iterate_until(lambda: proc.poll() is not None, what='the CreateSnapshotSet lines')
        output = proc.stdout.read()
        self.assertEqual(proc.returncode, 0, output)
        # the reply: the set id and its one snapshot; ls showed the snapshot
        match = re.search(r'^sao "([0-9a-f-]{36})" 1 "/org/freedesktop/Vss1/Snapshot/(\w+)"$',
                          output, re.M)
        self.assertIsNotNone(match, output)
        self.assertRegex(output, rf'(?m)^{match.group(2).replace("_", "-")}$')
        # the writer was frozen around it; DeleteSnapshotSet deleted it
        writer.wait_for('BackupShutdown')
        self.assertEqual(writer.names(), ['Identify', 'PrepareForBackup', 'PrepareForSnapshot',
                                          'Freeze', 'Thaw', 'PostSnapshot', 'BackupComplete',
                                          'BackupShutdown'])
        self.assertEqual(self.snapshots_on_disk(volume), [])
        self.assertEqual(self.records(), [])


if __name__ == '__main__':
    unittest.main()
