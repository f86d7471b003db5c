#!/usr/bin/python3
"""A writer application for the reliability tests, in a process of its own.

It registers one or more writers through libvss-gobject (gi.repository.Vss)
on the system bus, which in the tests is the private test bus
(DBUS_SYSTEM_BUS_ADDRESS), each writer on a connection of its own, and then
tells on stdout, one line each, flushed at once, what happens to it:

    ready                              every writer is registered
    registered WRITER                  (again) registered with a vssd
    unregistered WRITER                the vssd it was registered with is gone
    event EVENT WRITER BACKUP          an event from the service (EVENT as on the
                                       bus: Freeze, Thaw, ...); a thaw or abort the
                                       library runs by itself ends in ' local'
    frozen WRITER                      the library holds the writer frozen
    thawed WRITER                      ... and no longer
    self-abort WRITER REASON           the library let the writer go on its own
                                       (the service died, or the freeze deadline passed)

A writer that printed 'frozen' is frozen until it prints 'thawed'.

Faults, all optional:
    --die-at EVENT     SIGKILL the whole process while handling EVENT, before
                       answering it; for Freeze after acknowledging it, so
                       that the process dies frozen
    --hang-at EVENT    never answer the first EVENT (the writer still takes it:
                       a Freeze it hangs in leaves it frozen); later ones are
                       answered
    --fail-held-on EVENT
                       when EVENT comes, first fail the request it hung in
                       (the application gave that work up), then handle EVENT
    --veto             fail Freeze (a veto)
    --count N          N writers, named NAME-0 .. NAME-(N-1)
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
gi.require_version('Vss', '1.0')
from gi.repository import Gio, GLib, Vss  # noqa: E402

EVENTS = {
    'identify': 'Identify',
    'prepare-for-backup': 'PrepareForBackup',
    'prepare-for-snapshot': 'PrepareForSnapshot',
    'freeze': 'Freeze',
    'thaw': 'Thaw',
    'post-snapshot': 'PostSnapshot',
    'abort': 'Abort',
    'backup-complete': 'BackupComplete',
    'backup-shutdown': 'BackupShutdown',
    'pre-restore': 'PreRestore',
    'post-restore': 'PostRestore',
}


def say(*words):
    sys.stdout.write(' '.join(str(w) for w in words) + '\n')
    sys.stdout.flush()


class FaultWriter(Vss.Writer):
    def __init__(self, name, options, connection, **kwargs):
        super().__init__(name=name, connection=connection, **kwargs)
        self.options = options
        self.held = []  # requests it hangs in, kept alive
        self.connect('notify::frozen', self._on_frozen)
        self.connect('notify::registered', self._on_registered)
        self.connect('self-abort', lambda w, reason: say('self-abort', name, reason))

    def _on_frozen(self, *args):
        say('frozen' if self.props.frozen else 'thawed', self.props.name)

    def _on_registered(self, *args):
        say('registered' if self.props.registered else 'unregistered', self.props.name)

    def handle(self, request):
        event = EVENTS[request.get_event().value_nick]
        local = request.is_local()
        say('event', event, self.props.name, request.get_backup_path() or '-',
            *(['local'] if local else []))
        if local:
            return True
        if event == self.options.fail_held_on and self.held:
            # the slow work of an earlier event was given up: say so now
            for held in self.held:
                if not held.is_answered():
                    held.fail(Vss.WriterFailure.RETRYABLE,
                              f'{self.props.name} gave up an earlier {event}')
        if event == self.options.die_at:
            if event == 'Freeze':
                # acknowledge, make sure the Ack left, then die frozen
                request.complete()
                self.props.connection.flush_sync(None)
            os.kill(os.getpid(), signal.SIGKILL)
        if event == self.options.hang_at and not self.held:
            request.defer()
            self.held.append(request)
            return True
        if event == 'Freeze' and self.options.veto:
            raise GLib.Error(f'{self.props.name} vetoes the snapshot')
        return True

    def do_identify(self, request):
        return self.handle(request)

    def do_prepare_for_backup(self, request):
        return self.handle(request)

    def do_prepare_for_snapshot(self, request):
        return self.handle(request)

    def do_freeze(self, request):
        return self.handle(request)

    def do_thaw(self, request):
        return self.handle(request)

    def do_post_snapshot(self, request):
        return self.handle(request)

    def do_abort(self, request):
        ok = self.handle(request)
        # the default handler thaws a frozen writer (its thaw prints ' local')
        return Vss.Writer.do_abort(self, request) and ok

    def do_backup_complete(self, request):
        return self.handle(request)

    def do_backup_shutdown(self, request):
        return self.handle(request)

    def do_pre_restore(self, request):
        return self.handle(request)

    def do_post_restore(self, request):
        return self.handle(request)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--name', required=True)
    parser.add_argument('--count', type=int, default=1)
    parser.add_argument('--die-at', choices=EVENTS.values())
    parser.add_argument('--hang-at', choices=EVENTS.values())
    parser.add_argument('--fail-held-on', choices=EVENTS.values())
    parser.add_argument('--veto', action='store_true')
    parser.add_argument('--freeze-timeout-ms', type=int, default=0)
    parser.add_argument('--event-timeout-ms', type=int, default=0)
    options = parser.parse_args()

    address = os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
    if not address:
        sys.exit('fault-writer: DBUS_SYSTEM_BUS_ADDRESS is not set')
    kwargs = {}
    if options.freeze_timeout_ms:
        kwargs['freeze_timeout_ms'] = options.freeze_timeout_ms
    if options.event_timeout_ms:
        kwargs['event_timeout_ms'] = options.event_timeout_ms

    writers = []
    for i in range(options.count):
        name = options.name if options.count == 1 else f'{options.name}-{i}'
        connection = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        connection.set_exit_on_close(False)
        writer = FaultWriter(name, options, connection, **kwargs)
        writer.register_sync(None)
        writers.append(writer)
    say('ready')

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, loop.quit)
    loop.run()


if __name__ == '__main__':
    main()
