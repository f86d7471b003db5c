#!/usr/bin/gjs -m
// A minimal backup application in GJS: snapshots btrfs subvolumes with vss.
// It is an ES module: run it with gjs -m.
//
//     gjs -m requester.js [--persistent] SUBVOLUME...
//
// It drives one backup through the service: gather the writers' metadata, put
// the subvolumes in a snapshot set, prepare, snapshot (the writers are frozen
// meanwhile), then complete and release. Without --persistent the snapshots
// are deleted on release, so a real requester copies its data from them in
// between. On failure it aborts the backup, prints the error and exits with 1.

import Gio from 'gi://Gio';
import Vss from 'gi://Vss?version=1.0';
import System from 'system';

// GJS 1.74 does not turn _async/_finish pairs into promises by itself:
// _promisify() makes each _async method return a promise when it is called
// without a callback. The main loop runs while the module awaits.
Gio._promisify(Vss.Client, 'new_async', 'new_finish');
Gio._promisify(Vss.Client.prototype, 'create_backup_components_async',
    'create_backup_components_finish');
for (const method of ['initialize_for_backup', 'set_context', 'gather_writer_metadata',
    'start_snapshot_set', 'add_to_snapshot_set', 'prepare_for_backup', 'do_snapshot_set',
    'get_snapshots', 'backup_complete', 'abort_backup', 'release'])
    Gio._promisify(Vss.BackupComponents.prototype, `${method}_async`, `${method}_finish`);

const persistent = System.programArgs.includes('--persistent');
// absolute paths; the service refuses relative ones
const subvolumes = System.programArgs.filter(arg => arg !== '--persistent')
    .map(arg => Gio.File.new_for_path(arg).get_path());
if (subvolumes.length === 0) {
    printerr('usage: gjs -m requester.js [--persistent] SUBVOLUME...');
    System.exit(2);
}

async function backup(components) {
    let prepared = false;
    try {
        await components.initialize_for_backup_async(null);
        if (persistent) // keep the snapshots after release, until someone deletes them
            await components.set_context_async(Vss.SnapshotContext.PERSISTENT, null);

        // Identify: every registered writer says who it is and where its data is
        for (const info of await components.gather_writer_metadata_async(null))
            print(`writer: ${info.get_name()} ${JSON.stringify(info.get_paths() ?? [])}`);

        print(`snapshot set: ${await components.start_snapshot_set_async(null)}`);
        for (const path of subvolumes)
            await components.add_to_snapshot_set_async(path, null);

        // from here on the writers take part (even if this fails): a backup
        // abandoned after this call must be aborted
        prepared = true;
        await components.prepare_for_backup_async(null);
        await components.do_snapshot_set_async(null);

        for (const snapshot of await components.get_snapshots_async(null)) {
            // a real requester would copy the files from the snapshot here
            print(`snapshot: ${snapshot.get_source_path()} -> ${snapshot.get_snapshot_path()}`);
        }
        await components.backup_complete_async(null);
        return 0;
    } catch (e) {
        printerr(`backup failed: ${e.message}`);
        if (prepared) {
            // a failed DoSnapshotSet may or may not have sent Abort already:
            // abort all the same, it is always safe (the writers see it once)
            await components.abort_backup_async(null);
            print('aborted');
        }
        return 1;
    }
}

let status;
try {
    // connect to the service on the system bus; needs the polkit action
    // org.freedesktop.vss1.backup (root needs none)
    const client = await Vss.Client.new_async(null);
    const components = await client.create_backup_components_async(
        Vss.BackupComponentsFlags.NONE, null);
    status = await backup(components);
    // ends the backup: writers get BackupShutdown, and backup-context
    // snapshots are deleted
    await components.release_async(null);
} catch (e) {
    printerr(`vss: ${e.message}`);
    status = 1;
}
System.exit(status);
