#!/usr/bin/python3
"""Incremental restic backups over vss snapshots: the snapshot's own path
against `vssctl create --in-place` (issue 17).

A subvolume holds a tree of FILES files of 4 to 32 KiB (100 directories). Each arm has
a restic repository of its own and backs the tree up once; then, for each of
N rounds, one file of the tree changes and each arm backs it up again (the
arms alternate which goes first):

  snapshot path  vssctl create TREE -- restic backup "$VSS_SNAPSHOT_PATH"
                 (a new path each time: restic finds no parent and reads
                 every file)
  --in-place     vssctl create --in-place TREE -- restic backup TREE
                 (the snapshot mounted over TREE in COMMAND's namespace:
                 the same path, restic's parent, only the changed file read)

Per second backup: the files restic read (new + changed; it only stats the
unmodified ones), the bytes it read and hashed (total_bytes_processed), its
own duration (total_duration) and vssctl's whole run (the backup cycle with
the writers' events, the snapshot, restic, the delete). It runs on the
integration tests' harness (private bus, mock polkitd, vssd from the build
tree, a loop-mounted btrfs image), as root, by hand, never by meson test:

    sudo nice bench/vss-bench-inplace.py [--files 10000] [-n 5] [--drop-caches]
        [--json FILE]

from a build tree made with meson (_build, or VSS_BUILD_ROOT).
"""

import argparse
import json
import os
import statistics
import sys
import time
import unittest

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRCDIR, 'tests'))

OPTIONS = argparse.Namespace(files=10000, n=5, json=None, drop_caches=False)
RESULTS = {}
ARMS = ('snapshot path', '--in-place')


def setup_environment():
    build = os.environ.setdefault('VSS_BUILD_ROOT', os.path.join(SRCDIR, '_build'))
    os.environ.setdefault('VSSD', os.path.join(build, 'service', 'vssd'))
    for variable in ('GI_TYPELIB_PATH', 'LD_LIBRARY_PATH'):
        os.environ[variable] = os.path.join(build, 'libvss-gobject') + \
            (':' + os.environ[variable] if os.environ.get(variable) else '')


def make_bench_class():
    # imported here: test_vssctl finds vssctl through VSS_BUILD_ROOT
    from test_vssctl import VssctlTestCase

    class InPlaceBench(VssctlTestCase):
        image_size = '4G'

        def restic(self, arm, tree, env):
            """One backup of @tree by @arm; restic's summary and vssctl's time."""
            # {} is the snapshot's path, or TREE with --in-place; restic's
            # reads add up in the shell's /proc/PID/io once it is reaped
            script = ('restic backup --json "$1"; status=$?; cat /proc/$$/io; '
                      'exit $status')
            options = ['--in-place'] if arm == '--in-place' else []
            if OPTIONS.drop_caches:
                os.sync()
                with open('/proc/sys/vm/drop_caches', 'w') as f:
                    f.write('3\n')
            start = time.monotonic()
            result = self.vssctl('create', *options, tree, '--', 'sh', '-c', script, 'sh', '{}',
                                 env=env, timeout=1800)
            elapsed = time.monotonic() - start
            self.assertExit(result, 0)
            lines = result.stdout.splitlines()
            [summary] = [json.loads(line) for line in lines
                         if line.startswith('{') and '"summary"' in line]
            io = dict(line.split(': ') for line in lines if line.startswith(('rchar', 'syscr')))
            return {
                'files_read': summary['files_new'] + summary['files_changed'],
                'files_new': summary['files_new'],
                'files_changed': summary['files_changed'],
                'files_unmodified': summary['files_unmodified'],
                'bytes_read': int(io['rchar']),
                'read_calls': int(io['syscr']),
                'restic_s': summary['total_duration'],
                'vssctl_s': elapsed,
            }

        def test_second_backup(self):
            tree = self.subvolume('tree')
            for d in range(100):
                os.mkdir(os.path.join(tree, f'd{d:02}'))
            for i in range(OPTIONS.files):
                with open(os.path.join(tree, f'd{i % 100:02}', f'f{i:05}'), 'wb') as f:
                    # 4 to 32 KiB: above btrfs's inline limit (2 KiB), so a
                    # file's data is read apart from its inode
                    f.write(os.urandom(4096 * (1 + i % 8) - i % 1000))
            envs = {}
            for arm in ARMS:
                home = os.path.join(self.btrfs.path(), 'home-' + arm.strip('-').split()[0])
                os.makedirs(home, exist_ok=True)
                envs[arm] = dict(os.environ, HOME=home,
                                 RESTIC_REPOSITORY=os.path.join(home, 'repo'),
                                 RESTIC_PASSWORD='bench',
                                 RESTIC_CACHE_DIR=os.path.join(home, 'cache'))
                self.assertEqual(os.spawnvpe(os.P_WAIT, 'restic', ['restic', 'init', '-q'],
                                             envs[arm]), 0)
                RESULTS.setdefault(arm, {'first': self.restic(arm, tree, envs[arm]),
                                         'second': []})
            for round_ in range(OPTIONS.n):
                with open(os.path.join(tree, 'd07', 'f00007'), 'ab') as f:
                    f.write(f'round {round_}\n'.encode())
                order = ARMS if round_ % 2 == 0 else ARMS[::-1]
                for arm in order:
                    RESULTS[arm]['second'].append(self.restic(arm, tree, envs[arm]))
                print(f'round {round_ + 1}/{OPTIONS.n} done', file=sys.stderr)

    return InPlaceBench


def median(samples, key):
    return statistics.median(sample[key] for sample in samples)


def report():
    cache = 'cold page cache' if OPTIONS.drop_caches else 'warm page cache'
    print(f'\nSecond restic backup of {OPTIONS.files} files with one changed, {cache}, '
          f'median of {OPTIONS.n} (first backup in brackets):\n')
    print('| arm | files read | of them changed | bytes read | restic | vssctl create, all |')
    print('|---|---|---|---|---|---|')
    for arm in ARMS:
        first = RESULTS[arm]['first']
        second = RESULTS[arm]['second']
        print(f'| {arm} | {median(second, "files_read"):.0f} ({first["files_read"]}) '
              f'| {median(second, "files_changed"):.0f} '
              f'| {median(second, "bytes_read") / 1e6:.2f} MB '
              f'({first["bytes_read"] / 1e6:.2f} MB) '
              f'| {median(second, "restic_s"):.2f} s ({first["restic_s"]:.2f} s) '
              f'| {median(second, "vssctl_s"):.2f} s ({first["vssctl_s"]:.2f} s) |')
    for key, what in (('restic_s', 'restic'), ('vssctl_s', 'vssctl create, all'),
                      ('bytes_read', 'bytes read')):
        ratio = median(RESULTS[ARMS[0]]['second'], key) / median(RESULTS[ARMS[1]]['second'], key)
        print(f'{what}: snapshot path / --in-place = {ratio:.1f}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--files', type=int, default=OPTIONS.files)
    parser.add_argument('-n', type=int, default=OPTIONS.n, help='rounds')
    parser.add_argument('--json', help='write the samples to this file')
    parser.add_argument('--drop-caches', action='store_true',
                        help='drop the page cache before each backup (the whole '
                        'machine\'s): the tree is read from the disk, as a large one would be')
    parser.parse_args(namespace=OPTIONS)
    if os.geteuid() != 0:
        sys.exit('run it as root (loop mounts, btrfs, mount namespaces)')
    setup_environment()
    suite = unittest.TestSuite([make_bench_class()('test_second_backup')])
    if not unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful():
        sys.exit(1)
    report()
    if OPTIONS.json:
        with open(OPTIONS.json, 'w') as f:
            json.dump({'files': OPTIONS.files, 'rounds': OPTIONS.n, 'results': RESULTS}, f,
                      indent=1)


if __name__ == '__main__':
    main()
