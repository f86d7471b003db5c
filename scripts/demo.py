#!/usr/bin/python3
"""The vss demo: a writer, a backup, an abort — on a loop-mounted btrfs image.

It starts a private system bus (with the project's bus policy), vssd from the
build tree and two writers from examples/: a toy database that writes a
journal, and a mail store that vetoes every Freeze. A backup then fails: the
mail store vetoes, every writer receives Abort, the requester aborts as the
reference advises and nothing is left on disk. With the mail store gone, a
second backup succeeds and keeps a persistent, read-only snapshot whose
journal stopped exactly at Freeze.

    scripts/demo.py BUILD_DIR      (as root; scripts/demo.sh builds first)
"""

import os
import select
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests'))

from vsstest import BUS_CONFIG, BtrfsImage, Vssd  # noqa: E402
import dbusmock  # noqa: E402


def title(text):
    print(f'\n\033[1m== {text}\033[0m', flush=True)


class Program:
    """An example program whose output lines are shown as they come."""

    def __init__(self, label, argv, env):
        self.label = label
        self.lines = []
        self.process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1)
        os.set_blocking(self.process.stdout.fileno(), False)

    def pump(self, timeout=0.1):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return
        for line in self.process.stdout.read().splitlines():
            self.lines.append(line)
            print(f'  [{self.label}] {line}', flush=True)

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f'{self.label} did not print "{text}"')
            self.pump()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        self.pump(0)


def run_requester(programs, argv, env):
    requester = Program('requester', argv, env)
    while requester.process.poll() is None:
        for program in programs + [requester]:
            program.pump(0.05)
    time.sleep(0.3)
    for program in programs + [requester]:
        program.pump(0)
    return requester


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        raise SystemExit('the demo needs root: it loop-mounts a btrfs image')
    workdir = tempfile.mkdtemp(prefix='vss-demo-')
    os.chmod(workdir, 0o755)
    env = dict(os.environ,
               GI_TYPELIB_PATH=os.path.join(build, 'libvss-gobject'),
               LD_LIBRARY_PATH=os.path.join(build, 'libvss-gobject'),
               PYTHONUNBUFFERED='1')
    os.environ['VSSD'] = os.path.join(build, 'service', 'vssd')
    btrfs = bus_pid = vssd = None
    programs = []
    try:
        title('a btrfs filesystem in a file, loop-mounted; a subvolume for the database')
        btrfs = BtrfsImage('256M')
        data = btrfs.create_subvolume('db')
        print(f'  {data}')

        title('a private system bus with the project\'s policy, and vssd')
        config = os.path.join(workdir, 'system.conf')
        with open(config, 'w') as f:
            f.write(BUS_CONFIG.format(socket=os.path.join(workdir, 'bus'),
                                      policy=os.path.join(SOURCE_ROOT, 'dbus',
                                                          'org.freedesktop.Vss1.conf')))
        bus_pid, address = dbusmock.DBusTestCase.start_dbus(conf=config)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = address
        vssd = Vssd(address, os.path.join(workdir, 'state'), os.path.join(workdir, 'vssd.log'))
        vssd.start()
        print(f'  vssd owns org.freedesktop.Vss1 on {address}')

        title('two writers register: a database (writes a journal) and a mail store (vetoes)')
        python = '/usr/bin/python3'
        database = Program('database', [python, os.path.join(SOURCE_ROOT, 'examples', 'writer.py'),
                                        '--name', 'database', data], env)
        mail = Program('mail store', [python, os.path.join(SOURCE_ROOT, 'examples', 'writer.py'),
                                      '--name', 'mail store', '--veto'], env)
        programs = [database, mail]
        database.wait_for('ready')
        mail.wait_for('ready')

        requester = [python, os.path.join(SOURCE_ROOT, 'examples', 'requester.py')]
        title('backup 1: the mail store vetoes Freeze, so every writer gets Abort')
        first = run_requester(programs, requester + [data], env)
        print(f'  requester exit status: {first.process.returncode} (the backup was aborted)')
        print(f'  snapshots left on disk: {os.listdir(os.path.join(data, ".vss-snapshots"))}')

        title('the mail store stops; backup 2 succeeds and keeps a persistent snapshot')
        mail.stop()
        programs = [database]
        second = run_requester(programs, requester + ['--persistent', data], env)
        print(f'  requester exit status: {second.process.returncode}')
        snapshot = [line.split(' -> ')[1] for line in second.lines if line.startswith('snapshot:')]
        if second.process.returncode != 0 or not snapshot:
            raise SystemExit('the second backup failed:\n' + vssd.log())
        with open(os.path.join(snapshot[0], 'journal')) as f:
            frozen_rows = f.read().splitlines()
        time.sleep(0.5)
        with open(os.path.join(data, 'journal')) as f:
            live_rows = f.read().splitlines()
        print(f'  the snapshot {snapshot[0]}')
        print(f'  is read-only, and its journal ends at "{frozen_rows[-1]}" (the row before '
              f'Freeze); the live journal has gone on to "{live_rows[-1]}"')

        title('why the first backup was aborted, as the journal would show it')
        for line in vssd.log().splitlines():
            if 'vetoed' in line or 'failed Freeze' in line or 'aborting' in line:
                print('  ' + line.split(': ', 1)[-1])
    finally:
        for program in programs:
            program.stop()
        if vssd is not None:
            vssd.stop()
        if bus_pid:
            dbusmock.DBusTestCase.stop_dbus(bus_pid)
        if btrfs is not None:
            btrfs.destroy()
        subprocess.run(['rm', '-rf', workdir])
    title('done: everything the demo made is gone')


if __name__ == '__main__':
    main()
