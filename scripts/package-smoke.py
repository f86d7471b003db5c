#!/usr/bin/python3
"""The installed-layout test: vss as the Debian packages install it.

    package-smoke.py --root DIR [--testlog FILE]

DIR holds the packages unpacked with `dpkg-deb -x` (scripts/test.sh, stage
package). Everything under test comes from DIR alone: vssd, vssctl, the
library, the typelib, the bus policy, the activation file, the unit and the
polkit actions. The harness around them is the integration tests' one
(tests/vsstest.py): a private dbus-daemon configured like a system bus that
includes the packaged policy, python-dbusmock's polkitd on it, and a btrfs
image loop-mounted in a temporary directory; everything is torn down
afterwards, even on failure. So a file missing from a package, or installed
at a path that its users do not look at, fails here.

With --testlog, one JSON line per test is appended to FILE, as meson writes
them (name, result, duration, suite), for the summary of scripts/test.sh.
"""

import argparse
import gzip
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRCDIR, 'tests'))

import dbus  # noqa: E402
import dbusmock  # noqa: E402
import vsstest  # noqa: E402

ROOT = None  # set by main()
MULTIARCH = subprocess.run(['dpkg-architecture', '-qDEB_HOST_MULTIARCH'], capture_output=True,
                           text=True, check=True).stdout.strip()
LIBDIR = f'usr/lib/{MULTIARCH}'
NOBODY = 65534
TIMEOUT_S = 60

# what the packages must hold, by the path their users look at
EXPECTED_FILES = {
    'vssd': ['usr/libexec/vssd', 'usr/bin/vssctl',
             'usr/share/dbus-1/system.d/org.freedesktop.Vss1.conf',
             'usr/share/dbus-1/system-services/org.freedesktop.Vss1.service',
             'lib/systemd/system/vssd.service',
             'usr/share/polkit-1/actions/org.freedesktop.vss1.policy',
             'usr/share/bash-completion/completions/vssctl',
             'usr/share/man/man8/vssd.8.gz', 'usr/share/man/man1/vssctl.1.gz',
             'var/lib/vss/'],
    'libvss-gobject-1-1': [f'{LIBDIR}/libvss-gobject-1.so.1'],
    'gir1.2-vss-1.0': [f'{LIBDIR}/girepository-1.0/Vss-1.0.typelib'],
    'libvss-gobject-dev': ['usr/include/vss-gobject-1/vss.h', f'{LIBDIR}/libvss-gobject-1.so',
                           f'{LIBDIR}/pkgconfig/vss-gobject-1.pc', 'usr/share/gir-1.0/Vss-1.0.gir',
                           'usr/share/dbus-1/interfaces/org.freedesktop.Vss1.xml'],
    'libvss-gobject-doc': ['usr/share/doc/Vss-1.0/index.html',
                           'usr/share/devhelp/books/Vss-1.0/Vss-1.0.devhelp2'],
}


def packaged(path):
    return os.path.join(ROOT, path)


def packaged_env(extra=None):
    """The environment of a program from the packages: their library and typelib only."""
    env = {
        'PATH': '/usr/sbin:/usr/bin:/sbin:/bin',
        'LANG': 'C.UTF-8',
        'LD_LIBRARY_PATH': packaged(LIBDIR),
        'GI_TYPELIB_PATH': packaged(f'{LIBDIR}/girepository-1.0'),
        'DBUS_SYSTEM_BUS_ADDRESS': os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
        'PYTHONDONTWRITEBYTECODE': '1',
    }
    env.update(extra or {})
    return env


def run(args, uid=None, check=True, timeout=TIMEOUT_S, env=None):
    """Runs a program from the packages (as @uid), returns the CompletedProcess."""
    if uid is not None:
        args = ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', *args]
    result = subprocess.run(args, env=packaged_env(env), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f'{" ".join(args)} exited with {result.returncode}:\n'
                             f'{result.stdout}{result.stderr}')
    return result


class Lines:
    """The lines a child process prints, read in a thread, each awaited with a timeout."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.queue.put(line.rstrip('\n'))
        self.queue.put(None)

    def next(self, timeout=TIMEOUT_S):
        try:
            line = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f'no line within {timeout} s') from None
        if line is None:
            raise AssertionError('the process ended')
        return line


# a writer that uses the packaged typelib and library (gi.repository.Vss)
WRITER = r'''
import sys
import gi
gi.require_version('Vss', '1.0')
from gi.repository import GLib, Vss

def event(name):
    def handler(writer, request):
        print(name, flush=True)
        return True
    return handler

writer = Vss.Writer.new('package-smoke')
for name in ('freeze', 'thaw', 'post-snapshot', 'backup-complete'):
    writer.connect(name, event(name))
writer.register_sync(None)
print('registered', writer.get_object_path(), flush=True)
GLib.MainLoop().run()
'''


class PackageTest(dbusmock.DBusTestCase):
    """vssd, vssctl and the typelib from the packages, on a private system bus."""

    @classmethod
    def setUpClass(cls):
        signal.signal(signal.SIGTERM, vsstest._terminated)
        cls.tmpdir = tempfile.mkdtemp(prefix='vss-package-')
        os.chmod(cls.tmpdir, 0o755)
        cls.bus_pid = None
        cls.btrfs = None
        cls.vssd = None
        cls.polkitd = None
        try:
            cls.btrfs = vsstest.BtrfsImage()
            socket_path = os.path.join(cls.tmpdir, 'system_bus_socket')
            config = os.path.join(cls.tmpdir, 'system.conf')
            with open(config, 'w') as f:
                f.write(vsstest.BUS_CONFIG.format(
                    socket=socket_path, extra_limits='',
                    policy=packaged('usr/share/dbus-1/system.d/org.freedesktop.Vss1.conf')))
            cls.bus_pid, cls.address = cls.start_dbus(conf=config)
            os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = cls.address
            cls.polkitd, cls.polkit = cls.spawn_server_template('polkitd', {},
                                                                stdout=subprocess.DEVNULL)
            cls.state_dir = os.path.join(cls.tmpdir, 'state')
            os.environ['VSSD'] = packaged('usr/libexec/vssd')
            cls.vssd = vsstest.Vssd(cls.address, cls.state_dir,
                                    os.path.join(cls.tmpdir, 'vssd.log'))
            cls.vssd.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.vssd is not None:
            try:
                status = cls.vssd.stop()
                if status != 0:
                    sys.stderr.write(f'vssd exited with {status}:\n{cls.vssd.log()}\n')
            except AssertionError as e:
                sys.stderr.write(f'{e}\n')
            cls.vssd = None
        if cls.polkitd is not None:
            cls.polkitd.terminate()
            cls.polkitd.wait()
            cls.polkitd = None
        if cls.bus_pid:
            cls.stop_dbus(cls.bus_pid)
            cls.bus_pid = None
        if cls.btrfs is not None:
            cls.btrfs.destroy()
            cls.btrfs = None
        shutil.rmtree(cls.tmpdir, ignore_errors=True)

    def tearDown(self):
        if self._outcome is not None and not self._outcome.success and self.vssd is not None:
            sys.stderr.write(f'\n---- vssd log ----\n{self.vssd.log()}\n')

    def test_layout(self):
        """Each package holds its files where their users look for them."""
        missing = [f'{package}: {path}' for package, paths in EXPECTED_FILES.items()
                   for path in paths if not os.path.exists(packaged(path))]
        self.assertEqual(missing, [], 'files missing from the packages')
        self.assertTrue(os.path.isdir(packaged('var/lib/vss')))

    def test_activation_file_and_unit_start_the_packaged_vssd(self):
        """The bus activation file and the unit name the vssd the package installs."""
        with open(packaged('usr/share/dbus-1/system-services/org.freedesktop.Vss1.service')) as f:
            activation = f.read()
        with open(packaged('lib/systemd/system/vssd.service')) as f:
            unit = f.read()
        exec_line = re.search(r'^Exec=(\S+)', activation, re.M).group(1)
        exec_start = re.search(r'^ExecStart=(\S+)', unit, re.M).group(1)
        self.assertEqual(exec_line, '/usr/libexec/vssd')
        self.assertEqual(exec_start, '/usr/libexec/vssd')
        self.assertIn('SystemdService=vssd.service', activation)
        self.assertIn('BusName=org.freedesktop.Vss1', unit)
        self.assertRegex(unit, r'(?m)^StateDirectory=vss$')

    def test_polkit_actions_cover_vssd(self):
        """Every polkit action that vssd asks for is declared in the packaged policy."""
        with open(packaged('usr/share/polkit-1/actions/org.freedesktop.vss1.policy')) as f:
            declared = set(re.findall(r'<action id="([^"]+)"', f.read()))
        with open(packaged('usr/libexec/vssd'), 'rb') as f:
            used = {m.decode() for m in re.findall(rb'org\.freedesktop\.vss1\.[a-z-]+', f.read())}
        self.assertTrue(used, 'no polkit action found in vssd')
        self.assertLessEqual(used, declared)

    def test_vssd_default_state_dir(self):
        """The packaged vssd keeps its records in /var/lib/vss."""
        result = run([packaged('usr/libexec/vssd'), '--help'])
        self.assertIn('(default /var/lib/vss)', result.stdout)

    def test_typelib(self):
        """gi.repository.Vss loads the packaged typelib and library, and talks to vssd."""
        code = (
            "import gi\n"
            "gi.require_version('Vss', '1.0')\n"
            "from gi.repository import GIRepository, Vss\n"
            "print(GIRepository.Repository.get_default().get_typelib_path('Vss'))\n"
            "client = Vss.Client.new_sync(None)\n"
            "print(client.get_version_sync(None))\n"
            "print(''.join(l.split()[-1] + '\\n' for l in open('/proc/self/maps')\n"
            "              if 'libvss-gobject' in l), end='')\n")
        result = subprocess.run(['/usr/bin/python3', '-c', code], env=packaged_env(),
                                capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertEqual(result.returncode, 0, result.stderr)
        typelib, version, *libraries = result.stdout.split('\n')
        self.assertEqual(typelib, packaged(f'{LIBDIR}/girepository-1.0/Vss-1.0.typelib'))
        self.assertRegex(version, r'^\d+\.\d+')
        libraries = {os.path.realpath(path) for path in libraries if path}
        self.assertEqual(libraries,
                         {os.path.realpath(packaged(f'{LIBDIR}/libvss-gobject-1.so.1'))})

    def test_writer_and_snapshot(self):
        """A writer on the packaged typelib, vssctl list-writers, and one snapshot on btrfs."""
        writer = subprocess.Popen(['/usr/bin/python3', '-c', WRITER], env=packaged_env(),
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(writer.wait)
        self.addCleanup(writer.terminate)
        lines = Lines(writer.stdout)
        self.assertRegex(lines.next(), r'^registered /org/freedesktop/Vss1/Writer/\d+$')

        # listing is open to every user (packaged bus policy)
        listing = run([packaged('usr/bin/vssctl'), 'list-writers', '--json'], uid=NOBODY)
        names = [w['name'] for w in json.loads(listing.stdout)['writers']]
        self.assertIn('package-smoke', names)

        subvolume = self.btrfs.create_subvolume('data')
        self.addCleanup(self.btrfs.delete_subvolume_tree, subvolume)
        with open(os.path.join(subvolume, 'file'), 'w') as f:
            f.write('content\n')
        created = run([packaged('usr/bin/vssctl'), 'create', '--persistent', '--json', subvolume])
        result = json.loads(created.stdout)
        set_id = result['snapshot_set_id']
        snapshot = result['snapshots'][0]['snapshot_path']
        self.assertTrue(snapshot.startswith(os.path.join(subvolume, '.vss-snapshots') + '/'))
        with open(os.path.join(snapshot, 'file')) as f:
            self.assertEqual(f.read(), 'content\n')
        events = [lines.next() for _ in range(4)]
        self.assertEqual(events, ['freeze', 'thaw', 'post-snapshot', 'backup-complete'])
        self.assertTrue(os.path.exists(os.path.join(self.state_dir, 'snapshot-sets',
                                                    set_id + '.set')))

        ids = run([packaged('usr/bin/vssctl'), 'list-snapshots', '--ids'], uid=NOBODY)
        self.assertIn(set_id, ids.stdout.split())

        # a user without the polkit action is refused (exit status 3), then allowed
        refused = run([packaged('usr/bin/vssctl'), 'delete', set_id], uid=NOBODY, check=False)
        self.assertEqual(refused.returncode, 3, refused.stderr)
        self.assertIn('NotAuthorized', refused.stderr)
        self.assertTrue(os.path.isdir(snapshot))
        self.polkit.SetAllowed(['org.freedesktop.vss1.manage-snapshots'])
        self.addCleanup(self.polkit.SetAllowed, dbus.Array([], signature='s'))
        run([packaged('usr/bin/vssctl'), 'delete', set_id], uid=NOBODY)
        self.assertFalse(os.path.exists(snapshot))

    def test_writers(self):
        """vss-writers: each program starts on the packaged typelib and has its page."""
        programs = sorted(name for name in os.listdir(packaged('usr/sbin'))
                          if name.startswith('vss-writer-')) \
            if os.path.isdir(packaged('usr/sbin')) else []
        self.assertEqual(programs, ['vss-writer-hooks', 'vss-writer-mariadb',
                                    'vss-writer-postgresql'])
        self.assertTrue(os.path.isdir(packaged('usr/share/vss/writers/vsswriter')))
        for name in programs:
            with open(packaged(f'usr/sbin/{name}')) as f:
                # installed, the program finds its shared helper there
                self.assertIn("'/usr/share/vss/writers'", f.read())
            # unpacked here rather than installed: the same helper, by PYTHONPATH
            run([packaged(f'usr/sbin/{name}'), '--help'],
                env={'PYTHONPATH': packaged('usr/share/vss/writers')})
            self.assertTrue(os.path.exists(packaged(f'usr/share/man/man8/{name}.8.gz')),
                            f'{name} has no man page')

    def test_man_pages_render(self):
        """The packaged man pages render without a warning."""
        pages = [os.path.join(section, page)
                 for section in ('usr/share/man/man1', 'usr/share/man/man8')
                 if os.path.isdir(packaged(section))
                 for page in sorted(os.listdir(packaged(section)))]
        self.assertIn('usr/share/man/man8/vssd.8.gz', pages)
        self.assertIn('usr/share/man/man1/vssctl.1.gz', pages)
        for page in pages:
            with gzip.open(packaged(page)) as f:
                self.assertIn(b'.TH', f.read())
            result = subprocess.run([os.path.join(SRCDIR, 'man', 'check-man-page.sh'),
                                     packaged(page)], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)


class TestlogResult(unittest.TextTestResult):
    """Also records each test as a line of a meson test log."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []
        self._started = {}

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        super().startTest(test)

    def _record(self, test, result):
        start = self._started.get(test.id(), time.monotonic())
        self.records.append({'name': 'package.' + test.id().split('.', 1)[-1],
                             'result': result, 'duration': time.monotonic() - start,
                             'suite': ['package']})

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, 'OK')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, 'FAIL')

    def addError(self, test, err):
        super().addError(test, err)
        # an error in setUpClass is reported for the class: count it as a failure
        self._record(test, 'ERROR')

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, 'SKIP')


def main():
    global ROOT
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', required=True, help='the packages, unpacked with dpkg-deb -x')
    parser.add_argument('--testlog', help='append meson test log lines here')
    args, rest = parser.parse_known_args()
    ROOT = os.path.abspath(args.root)
    if os.geteuid() != 0:
        sys.exit('the installed-layout test needs root (loop mounts, btrfs, setpriv)')
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2,
                            testRunner=unittest.TextTestRunner(resultclass=TestlogResult,
                                                               verbosity=2))
    result = program.result
    if args.testlog:
        with open(args.testlog, 'a') as f:
            for record in result.records:
                f.write(json.dumps(record) + '\n')
            if not result.records:
                f.write(json.dumps({'name': 'package.smoke-test', 'result': 'ERROR',
                                    'duration': 0, 'suite': ['package']}) + '\n')
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == '__main__':
    main()
