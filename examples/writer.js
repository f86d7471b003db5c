#!/usr/bin/gjs -m
// A toy "database" that is a vss writer, in GJS (an ES module: run it with gjs -m).
//
//     gjs -m writer.js [--name NAME] [--veto] [DIR]
//
// It appends a row to DIR/journal every 100 ms. While a backup has it frozen
// it stops writing, so that the snapshot holds a journal that is consistent;
// Thaw (or Abort) lets it write again. --veto makes it refuse Freeze: a veto.
// The service then sends Abort to every writer of the backup and the
// requester's DoSnapshotSet fails. It prints "ready" once registered, then
// each event it handles ("event: freeze"), and runs until SIGINT or SIGTERM.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Vss from 'gi://Vss?version=1.0';
import System from 'system';

let name = 'example database', veto = false, dataDir = null;
for (let i = 0; i < System.programArgs.length; i++) {
    const arg = System.programArgs[i];
    if (arg === '--veto')
        veto = true;
    else if (arg === '--name')
        name = System.programArgs[++i];
    else // a relative path is taken from the working directory
        dataDir = Gio.File.new_for_path(arg).get_path();
}

// print() flushes each line, so whoever reads our stdout sees events at once
const Database = GObject.registerClass(class Database extends Vss.Writer {
    // one vfunc_<event> per event: return true to acknowledge it, or return
    // false (after request.fail()) or throw to fail it
    _init(params) {
        super._init(params);
        this._paused = false;
        this._rows = 0;
        this._journal = dataDir
            ? Gio.File.new_for_path(`${dataDir}/journal`).append_to(Gio.FileCreateFlags.NONE, null)
            : null;
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 100, () => {
            if (this._journal && !this._paused)
                this._journal.write_all(new TextEncoder().encode(`row ${++this._rows}\n`), null);
            return GLib.SOURCE_CONTINUE;
        });
    }

    vfunc_identify(request) {
        print('event: identify');
        // tell requesters what a backup of us need not copy; the asynchronous
        // call goes out before the acknowledgement, so the service has it in time
        if (dataDir) {
            const exclude = new GLib.Variant('as', [`${dataDir}/journal.lock`]);
            this.set_metadata_async(new GLib.Variant('a{sv}', {exclude}), null, null);
        }
        return true;
    }

    vfunc_prepare_for_backup(request) {
        print('event: prepare-for-backup');
        return true;
    }

    vfunc_prepare_for_snapshot(request) {
        print('event: prepare-for-snapshot'); // a real database would checkpoint here
        return true;
    }

    vfunc_freeze(request) {
        print('event: freeze');
        if (veto) {
            // failing Freeze vetoes the backup; the message reaches the requester
            request.fail(Vss.WriterFailure.RETRYABLE, 'the database is busy, try later');
            return false;
        }
        // stop writing; we will be thawed (or aborted) within this many ms
        this._paused = true;
        print(`paused (thaw within ${request.get_timeout_ms()} ms)`);
        return true;
    }

    vfunc_thaw(request) {
        // a local request is the thaw the library runs by itself, on Abort
        print(`event: thaw${request.is_local() ? ' (local)' : ''}`);
        this._paused = false;
        return true;
    }

    vfunc_post_snapshot(request) {
        print('event: post-snapshot');
        for (const [source, snapshot] of Object.entries(request.get_snapshots() ?? {}))
            print(`snapshot: ${source} -> ${snapshot}`);
        return true;
    }

    vfunc_abort(request) {
        // chain up first: the default handler thaws us if we are frozen
        super.vfunc_abort(request);
        print('event: abort');
        return true;
    }

    vfunc_backup_complete(request) {
        print('event: backup-complete');
        return true;
    }

    vfunc_backup_shutdown(request) {
        print('event: backup-shutdown');
        return true;
    }
});

// where our data lives: we take part only in backups of the subvolume that
// holds it (without paths, in every backup on the machine)
const writer = new Database({name, paths: dataDir ? [dataDir] : null});
try {
    // on the system bus (DBUS_SYSTEM_BUS_ADDRESS); needs the polkit action
    // org.freedesktop.vss1.register-writer (root needs none)
    writer.register_sync(null);
} catch (e) {
    printerr(`cannot register: ${e.message}`);
    System.exit(1);
}
print('ready');

// events arrive in this main loop, which must run; SIGINT is 2, SIGTERM 15
const loop = new GLib.MainLoop(null, false);
for (const signum of [2, 15])
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, () => loop.quit());
loop.run();

// a frozen writer thaws and aborts before it leaves
writer.unregister_sync(null);
print('unregistered');
