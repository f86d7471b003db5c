#!/usr/bin/python3
# Copyright (C) 2026 The vss authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python GI writer of the vss benchmark: vss-bench-writer.c, in Gio.

One process holding --count bus connections, each a writer registered with
vssd and/or the floor service, acknowledging every event as soon as it
arrives (Gio.DBusConnection.call, on the GLib main loop, as a PyGObject
program would). It records when each connection receives Freeze and Thaw
(CLOCK_MONOTONIC) and reports the windows on request.

The same line protocol as the C writer:
  (out) "ready N"; (in) "report" -> (out) "windows K w1 ... wK" (µs);
  (in) "sync" -> (out) "synced" once nothing else is left to do;
  (in) "quit", or end of input: exit.
"""

import argparse
import os
import sys
import time

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

VSS_NAME = 'org.freedesktop.Vss1'
VSS_PATH = '/org/freedesktop/Vss1'
MANAGER_IFACE = 'org.freedesktop.Vss1.Manager'
WRITER_IFACE = 'org.freedesktop.Vss1.Writer'
FLOOR_NAME = 'org.freedesktop.VssBench.Floor'
FLOOR_PATH = '/org/freedesktop/VssBench/Floor'
FLOOR_IFACE = 'org.freedesktop.VssBench.Floor'
CALL_TIMEOUT_MS = 120000


class Writers:
    def __init__(self):
        self.windows_us = []
        self.ack_errors = 0
        self.events = 0
        self.loop = GLib.MainLoop()
        self.input = b''

    def ack_done(self, connection, res):
        try:
            connection.call_finish(res)
        except GLib.Error as e:
            if self.ack_errors == 0:
                print(f'bench-writer.py: Ack failed: {e.message}', file=sys.stderr)
            self.ack_errors += 1


class WriterConnection:
    def __init__(self, writers, address):
        self.writers = writers
        self.freeze_ns = 0
        self.connection = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        self.connection.set_exit_on_close(False)
        # any sender: the events come from vssd or from the floor
        self.connection.signal_subscribe(None, WRITER_IFACE, None, None, None,
                                         Gio.DBusSignalFlags.NONE, self.on_signal)

    def register(self, destination, path, interface, name):
        self.connection.call_sync(destination, path, interface, 'RegisterWriter',
                                  GLib.Variant('(sa{sv})', (name, {})),
                                  GLib.VariantType.new('(o)'), Gio.DBusCallFlags.NONE,
                                  CALL_TIMEOUT_MS, None)

    def on_signal(self, connection, sender, path, interface, signal_name, params):
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if signal_name == 'Freeze':
            self.freeze_ns = now
        elif signal_name == 'Thaw' and self.freeze_ns:
            self.writers.windows_us.append((now - self.freeze_ns) / 1000.0)
            self.freeze_ns = 0
        elif signal_name == 'Abort':
            self.freeze_ns = 0
        self.writers.events += 1
        serial = params.get_child_value(0).get_uint64()
        connection.call(sender, path, WRITER_IFACE, 'Ack', GLib.Variant('(t)', (serial,)),
                        None, Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None,
                        self.writers.ack_done)

    def close(self):
        if not self.connection.is_closed():
            self.connection.close_sync(None)


def synced():
    # runs only when no event, reply or other default-priority work is ready
    sys.stdout.write('synced\n')
    sys.stdout.flush()
    return False


def on_stdin(fd, condition, writers):
    try:
        data = os.read(fd, 256)
    except InterruptedError:
        return True
    if not data:
        writers.loop.quit()
        return False
    writers.input += data
    while b'\n' in writers.input:
        line, writers.input = writers.input.split(b'\n', 1)
        command = line.decode()
        if command == 'report':
            values = ' '.join(f'{w:.1f}' for w in writers.windows_us)
            sys.stdout.write(f'windows {len(writers.windows_us)} {values}'.rstrip() + '\n')
            sys.stdout.flush()
            writers.windows_us.clear()
        elif command == 'sync':
            GLib.idle_add(synced, priority=GLib.PRIORITY_LOW)
        elif command == 'quit':
            writers.loop.quit()
            return False
        else:
            print(f'bench-writer.py: unknown command {command!r}', file=sys.stderr)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', '-n', type=int, default=1)
    parser.add_argument('--name', default=f'bench-py-{os.getpid()}')
    parser.add_argument('--register', default='vssd,floor')
    args = parser.parse_args()

    address = os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
    if not address:
        print('bench-writer.py: DBUS_SYSTEM_BUS_ADDRESS is not set', file=sys.stderr)
        return 1

    writers = Writers()
    connections = []
    for i in range(args.count):
        wc = WriterConnection(writers, address)
        connections.append(wc)
        name = f'{args.name}-{i}'
        if 'vssd' in args.register:
            wc.register(VSS_NAME, VSS_PATH, MANAGER_IFACE, name)
        if 'floor' in args.register:
            wc.register(FLOOR_NAME, FLOOR_PATH, FLOOR_IFACE, name)
    sys.stdout.write(f'ready {args.count}\n')
    sys.stdout.flush()

    GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, sys.stdin.fileno(),
                          GLib.IOCondition.IN | GLib.IOCondition.HUP | GLib.IOCondition.ERR,
                          on_stdin, writers)
    writers.loop.run()

    for wc in connections:
        wc.close()
    if writers.ack_errors:
        print(f'bench-writer.py: {writers.ack_errors} of {writers.events} Acks failed',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
