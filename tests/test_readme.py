#!/usr/bin/python3
"""The README's busctl walk-through, run as written against a running vssd."""

import os
import re
import subprocess
import unittest

from vsstest import VssTestCase, iterate_until

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'README.md')


def busctl_walkthrough():
    with open(README) as f:
        readme = f.read()
    blocks = [b for b in re.findall(r'^```sh\n(.*?)^```$', readme, re.M | re.S)
              if 'CreateBackupComponents' in b]
    assert len(blocks) == 1, 'one busctl walk-through in the README'
    return blocks[0]


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


if __name__ == '__main__':
    unittest.main()
