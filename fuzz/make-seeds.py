#!/usr/bin/python3
"""Writes the hand-made seeds of fuzz-coordinator into corpus/coordinator/.

Each seed is a short script in the fuzzer's input format (fuzz/README.md):
one opcode byte per step, then that step's argument bytes. Keep the opcode
numbers in step with the Op enum of fuzz-harness.h, and the tables below
with the steps' own (new entries go last, so that old seeds keep their
meaning). Seeds found by the fuzzer itself may sit beside these (named by
their SHA-1, as libFuzzer does).
"""
import os
import sys

OPS = ['register', 'unregister', 'reply', 'reply_bad_serial', 'advance', 'provider',
       'provider_grant', 'create', 'init_backup', 'init_restore', 'set_context', 'gather',
       'gather_status', 'start_set', 'add', 'prepare', 'do_snapshot_set', 'backup_complete',
       'abort', 'pre_restore', 'post_restore', 'release', 'delete_snapshots', 'shutdown',
       'store', 'register_paths', 'create_set', 'cancel_create', 'add_file']
OP = {name: i for i, name in enumerate(OPS)}
POLICIES = ['ack', 'manual', 'fail_at', 'hang_at', 'vanish_at']
EVENTS = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
          'PostSnapshot', 'Abort', 'BackupComplete', 'BackupShutdown', 'PreRestore',
          'PostRestore']
FAILURES = ['retryable', 'non-retryable', 'inconsistent-snapshot', 'out-of-resources', 'timeout']
TIMEOUTS = [None, 10, 20, 50, 100, 1000, 60000, 5]
ADVANCES = [1, 9, 10, 11, 50, 100, 1000, 3600000]
# AddToSnapshotSet's paths (fuzz-steps-requester.c)
PATHS = ['/fake/a', '/fake/b', '/fake/c', '/fake/a', 'relative/a', '/elsewhere/a',
         '/fake/../etc', '', '/fake/a/nested', '/fake/b/missing', '/fake/d', '/fake/a/data']
CONTEXTS = ['backup', 'persistent', 'bogus', '']
PROVIDER = ['fail_prepare', 'prepare_ok', 'fail_a', 'fail_b', 'snapshots_ok', 'toggle_manual',
            'toggle_add_file_failure', 'toggle_seal_failure']
# RegisterWriter's paths, a bit each, and the bad ones (fuzz-steps-writers.c)
WRITER_PATHS = ['/fake/a/data', '/fake/a/nested/db', '/fake/b/data', '/fake/b/missing/db',
                '/elsewhere/data', '/fake/c', '/fake/a', '/fake/a/nested']
BAD_WRITER_PATHS = ['relative/data', '/fake/a/../b']
# CreateSnapshotSet's paths, a bit each (fuzz-steps-create.c)
CREATE_PATHS = ['a', 'b', 'c', 'nested', 'd', 'a-again', 'missing', 'relative']
# AddBackupFile (fuzz-steps-files.c)
SERIALS = ['pending', 'other', 'never', 'zero', 'last_post_snapshot']
FORMS = ['backup_label', 'wal', 'itself', 'vss_snapshots', 'other_volume', 'dotdot', 'relative',
         'nested']
FDS = ['regular', 'directory', 'write_only', 'pipe', 'none', 'almost_cap', 'over_cap']


def register(policy='ack', event='Identify', failure='retryable', freeze=None, event_ms=None,
             bad_name=False):
    timeouts = TIMEOUTS.index(freeze) | TIMEOUTS.index(event_ms) << 3 | (0xc0 if bad_name else 0)
    return [OP['register'], POLICIES.index(policy), EVENTS.index(event),
            FAILURES.index(failure), timeouts]


def register_paths(paths=(), policy='ack', event='Identify', failure='retryable', freeze=None,
                   event_ms=None, bad=()):
    steps = register(policy, event, failure, freeze, event_ms)
    steps[0] = OP['register_paths']
    mask = sum(1 << WRITER_PATHS.index(p) for p in paths)
    bad_mask = sum(1 << BAD_WRITER_PATHS.index(p) for p in bad)
    return steps + [mask, bad_mask]


def create_set(paths=('a',), persistent=False, writers=True, description=False, too_many=False,
               cancel_at=0):
    mask = sum(1 << CREATE_PATHS.index(p) for p in paths)
    options = (persistent | (not writers) << 1 | description << 2 | too_many << 3 |
               cancel_at << 4)
    return [OP['create_set'], mask, options]


def cancel_create(which=0):
    return [OP['cancel_create'], which]


def add_file(writer, serial='pending', base=0, form='backup_label', fd='regular'):
    return [OP['add_file'], writer, SERIALS.index(serial), base << 3 | FORMS.index(form),
            FDS.index(fd)]


def unregister(writer):
    return [OP['unregister'], writer]


def reply(writer, which=0, failure=None):
    return [OP['reply'], writer, which, 0 if failure is None else 1 + FAILURES.index(failure)]


def reply_bad(writer, kind):
    return [OP['reply_bad_serial'], writer, kind]


def advance(ms):
    return [OP['advance'], ADVANCES.index(ms)]


def provider(what):
    return [OP['provider'], PROVIDER.index(what)]


def grant():
    return [OP['provider_grant']]


def call(name, slot=0, *args):
    return [OP[name], slot, *args]


def add(slot, path):
    return call('add', slot, PATHS.index(path))


def context(slot, ctx):
    return call('set_context', slot, CONTEXTS.index(ctx))


def delete(slot, which):
    return call('delete_snapshots', slot, which)


def shutdown():
    return [OP['shutdown']]


def store(broken):
    return [OP['store'], 0 if broken else 1]


def prepared(slot=0, paths=('/fake/a',), ctx=None):
    steps = call('init_backup', slot)
    if ctx is not None:
        steps += context(slot, ctx)
    steps += call('gather', slot) + call('start_set', slot)
    for path in paths:
        steps += add(slot, path)
    return steps + call('prepare', slot)


def backup(slot=0, paths=('/fake/a',), ctx=None):
    return (prepared(slot, paths, ctx) + call('do_snapshot_set', slot) +
            call('backup_complete', slot) + call('release', slot))


SEEDS = {
    'happy-no-writers': backup(),
    'happy-two-writers': register() + register() + backup(),
    'happy-persistent-two-volumes': register() + backup(paths=('/fake/a', '/fake/b'),
                                                        ctx='persistent'),
    'rule1-abort-before-prepare': register() + call('init_backup') + call('gather') +
    call('abort') + call('release'),
    'rule2-abort-after-prepare': register() + register() + prepared() + call('abort') +
    call('abort') + call('backup_complete') + call('release'),
    'rule2-abort-after-snapshot': register() + prepared() + call('do_snapshot_set') +
    call('abort') + call('release'),
    'rule2-prepare-fails-then-abort': register() + register('fail_at', 'PrepareForBackup') +
    prepared() + call('abort') + call('release'),
    'rule3-freeze-veto': register() + register('fail_at', 'Freeze', 'retryable') + prepared() +
    call('do_snapshot_set') + call('abort') + call('release'),
    'rule3-thaw-fails': register() + register('fail_at', 'Thaw', 'non-retryable') + prepared() +
    call('do_snapshot_set') + call('abort') + call('release'),
    'rule3-prepare-for-snapshot-fails': register('fail_at', 'PrepareForSnapshot') + prepared() +
    call('do_snapshot_set') + call('release'),
    'rule3-post-snapshot-fails': register() + register('fail_at', 'PostSnapshot') + prepared() +
    call('do_snapshot_set') + call('abort') + call('release'),
    'rule3-provider-prepare-fails': register() + provider('fail_prepare') + prepared() +
    call('do_snapshot_set') + call('abort') + call('release'),
    'rule3-provider-snapshot-fails': register() + provider('fail_b') +
    prepared(paths=('/fake/a', '/fake/b')) + call('do_snapshot_set') + call('release'),
    'rule8-release-after-prepare': register() + register() + prepared() + call('release'),
    'rule8-release-after-snapshot-persistent': register() + prepared(ctx='persistent') +
    call('do_snapshot_set') + call('release'),
    'rule9-freeze-hang': register() + register('hang_at', 'Freeze', freeze=10) + prepared() +
    call('do_snapshot_set') + advance(10) + call('release'),
    'rule9-slow-provider': register(freeze=20) + provider('toggle_manual') + prepared() +
    grant() + call('do_snapshot_set') + grant() + advance(50) + grant() + grant() +
    call('release'),
    'rule9-thaw-hang': register('hang_at', 'Thaw', freeze=50) + prepared() +
    call('do_snapshot_set') + advance(50) + call('abort') + call('release'),
    'rule10-one-set-at-a-time': register() + prepared(0) + call('init_backup', 1) +
    call('gather', 1) + call('start_set', 1) + call('do_snapshot_set', 0) +
    call('start_set', 1) + add(1, '/fake/b') + call('prepare', 1) + call('release', 0) +
    call('do_snapshot_set', 1) + call('release', 1),
    'rule11-abort-during-freeze': register() + register('manual') + prepared() + reply(1) +
    call('do_snapshot_set') + reply(1) + call('abort') + reply(1) + call('release'),
    'rule11-release-during-snapshot': register() + provider('toggle_manual') + prepared() +
    grant() + call('do_snapshot_set') + grant() + call('release') + grant() + grant(),
    'vanish-at-freeze': register() + register('vanish_at', 'Freeze') + prepared() +
    call('do_snapshot_set') + call('abort') + call('release'),
    'vanish-at-prepare-for-snapshot': register('vanish_at', 'PrepareForSnapshot') + register() +
    prepared() + call('do_snapshot_set') + call('release'),
    'unregister-while-pending': register('manual') + register() + call('init_backup') +
    call('gather') + unregister(0) + call('start_set') + add(0, '/fake/a') + call('prepare') +
    call('release'),
    'identify-timeout': register('manual', event_ms=10) + register() + call('init_backup') +
    call('gather') + advance(11) + reply(0) + call('start_set') + add(0, '/fake/c') +
    call('prepare') + call('do_snapshot_set') + call('release'),
    'late-writer': register() + call('init_backup') + call('gather') + register() +
    call('start_set') + add(0, '/fake/a') + call('prepare') + call('do_snapshot_set') +
    call('release'),
    'restore': register() + register('fail_at', 'PostRestore') + call('init_restore') +
    call('gather') + call('pre_restore') + call('abort') + call('post_restore') +
    call('gather_status') + call('release'),
    'restore-without-gather': register() + call('init_restore') + call('pre_restore') +
    call('post_restore') + call('release'),
    'bad-serials': register('manual') + call('init_backup') + call('gather') +
    reply_bad(0, 0) + reply_bad(0, 1) + reply(0) + reply_bad(0, 2) + reply(0) +
    call('release'),
    'manual-failures': register('manual') + prepared() + reply(0) + reply(0) + reply(0) +
    call('do_snapshot_set') + reply(0, 0, 'timeout') + call('abort') + reply(0) +
    call('release'),
    'delete-persistent': register() + prepared(paths=('/fake/a', '/fake/b'), ctx='persistent') +
    call('do_snapshot_set') + call('backup_complete') + delete(0, 1) + delete(0, 2) +
    delete(0, 0) + call('release'),
    'shutdown-mid-backup': register() + register('manual') + prepared(0) + call('init_backup', 1) +
    call('gather', 1) + shutdown(),
    'bad-arguments': register(bad_name=True) + register(freeze=5) + call('init_backup') +
    context(0, 'bogus') + context(0, '') + call('gather') + call('start_set') +
    add(0, 'relative/a') + add(0, '/elsewhere/a') + add(0, '') + add(0, '/fake/a') +
    add(0, '/fake/a') + call('do_snapshot_set') + call('prepare') + call('do_snapshot_set') +
    call('release') + call('release') + call('init_backup'),
    'out-of-order': call('prepare') + call('do_snapshot_set') + call('backup_complete') +
    call('start_set') + call('gather_status') + call('post_restore') + call('pre_restore') +
    call('abort') + call('release'),
    'store-broken-before-snapshot': register() + prepared() + store(True) +
    call('do_snapshot_set') + store(False) + call('abort') + call('release'),
    'store-broken-at-thaw': register('manual') + call('init_backup') +
    context(0, 'persistent') + call('gather') + reply(0) + call('start_set') +
    add(0, '/fake/a') + call('prepare') + reply(0) + call('do_snapshot_set') + reply(0) +
    reply(0) + store(True) + reply(0) + store(False) + reply(0) + call('abort') +
    call('release'),
    'store-broken-at-delete': register() + prepared(ctx='persistent') +
    call('do_snapshot_set') + call('backup_complete') + store(True) + delete(0, 0) +
    store(False) + call('release'),
    'three-backups': register() + prepared(0) + prepared(1) + prepared(2) +
    call('do_snapshot_set', 0) + call('abort', 1) + call('release', 2) + call('release', 0) +
    call('create', 0) + backup(0),

    # §4a: writers with paths take part only in backups of their subvolumes
    'scoping-who-takes-part': register_paths(['/fake/a/data']) + register_paths(['/fake/b/data']) +
    register_paths(['/fake/a/nested/db']) +
    register_paths(['/elsewhere/data', '/fake/b/missing/db']) + register() + backup(),
    'scoping-nested': register_paths(['/fake/a']) + register_paths(['/fake/a/nested/db']) +
    backup(paths=('/fake/a/nested',)) + call('create', 0) +
    backup(paths=('/fake/a', '/fake/a/nested'), ctx='persistent'),
    'scoping-add-after-prepare': register_paths(['/fake/b/data']) +
    register_paths(['/fake/a/data', '/fake/c']) + prepared() + add(0, '/fake/b') +
    add(0, '/fake/d') + add(0, '/fake/a/nested') + add(0, '/fake/b/missing') +
    add(0, '/fake/a/data') + call('do_snapshot_set') + call('backup_complete') +
    call('release'),
    'scoping-abort': register_paths(['/fake/b/data']) + register_paths(['/fake/a/data']) +
    register('fail_at', 'Freeze') + prepared() + call('do_snapshot_set') + call('abort') +
    call('release'),
    'scoping-status': register('fail_at', 'Identify') + register('manual', event_ms=10) +
    register_paths(['/fake/b/data']) + call('init_backup') + call('gather') + advance(11) +
    call('gather_status') + call('start_set') + add(0, '/fake/a') + call('prepare') +
    call('gather_status') + call('abort') + call('gather_status') + call('release'),
    'scoping-restore': register_paths(['/fake/b/data']) + register('fail_at', 'Identify') +
    call('init_restore') + call('gather') + call('pre_restore') + call('gather_status') +
    call('post_restore') + call('release'),
    'register-bad-paths': register_paths(bad=('relative/data',)) +
    register_paths(['/fake/a/data'], bad=('/fake/a/../b',)) + register_paths(['/fake/a/data']) +
    backup(),

    # §4b: CreateSnapshotSet
    'create-happy': register_paths(['/fake/a/data']) + register_paths(['/fake/b/data']) +
    register() + create_set(('a',)) + create_set(('a', 'b', 'nested'), persistent=True),
    'create-without-writers': register() + create_set(('a', 'd'), writers=False) +
    create_set(('c',), writers=False, persistent=True, description=True),
    'create-bad-paths': register() + create_set(()) + create_set(('a', 'a-again')) +
    create_set(('missing',)) + create_set(('relative',)) + create_set(('a',), too_many=True) +
    create_set((), too_many=True),
    'create-veto': register() + register('fail_at', 'Freeze') + create_set(('a', 'b')),
    'create-prepare-fails': register() + register('fail_at', 'PrepareForBackup') +
    create_set(('a',)) + unregister(1) + register('fail_at', 'PrepareForSnapshot') +
    create_set(('b',)),
    'create-post-snapshot-fails': register() + register('fail_at', 'PostSnapshot') +
    create_set(('a', 'b')),
    'create-freeze-timeout': register() + register('hang_at', 'Freeze', freeze=10) +
    create_set(('a',)) + advance(10),
    'create-provider-fails': register() + provider('fail_b') + create_set(('a', 'b')) +
    provider('snapshots_ok') + provider('fail_prepare') + create_set(('a',)),
    'create-seal-fails': register() + provider('toggle_seal_failure') + create_set(('a',)) +
    backup(paths=('/fake/b',)),
    'create-cancel-at-events': register() + register() + create_set(('a',), cancel_at=1) +
    create_set(('b',), cancel_at=5) + create_set(('c',), cancel_at=9) +
    create_set(('a',), cancel_at=11) + create_set(('b',), cancel_at=15),
    'create-cancel-step': register('manual') + create_set(('a',)) + cancel_create() + reply(0) +
    register() + register('hang_at', 'Freeze') + create_set(('b',)) + cancel_create(),
    'create-rule10': register() + prepared(0) + create_set(('b',)) + call('release', 0) +
    create_set(('b',)),
    'create-holds-the-lock': register('hang_at', 'PrepareForBackup') + create_set(('a',)) +
    call('init_backup', 1) + call('gather', 1) + call('start_set', 1) + create_set(('b',)) +
    advance(3600000) + call('start_set', 1) + add(1, '/fake/b') + call('prepare', 1) +
    call('release', 1),
    'create-shutdown': register('hang_at', 'Thaw', freeze=1000) + create_set(('a',)) +
    shutdown(),

    # §4c: AddBackupFile
    'files-happy': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') + register() +
    prepared() + call('do_snapshot_set') + add_file(0) + add_file(0, form='wal') +
    add_file(0, fd='almost_cap') + add_file(0) + reply(0) + call('backup_complete') +
    call('release'),
    'files-refused': register_paths(['/fake/a/data', '/fake/b/data'], 'hang_at', 'PostSnapshot') +
    register('hang_at', 'PostSnapshot') + prepared() + call('do_snapshot_set') +
    add_file(0, 'never') + add_file(0, 'zero') + add_file(0, 'other') + add_file(1) +
    add_file(0, form='dotdot') + add_file(0, form='relative') + add_file(0, form='other_volume') +
    add_file(0, base=1) + add_file(0, form='vss_snapshots') + add_file(0, fd='directory') +
    add_file(0, fd='write_only') + add_file(0, fd='pipe') + add_file(0, fd='none') +
    add_file(0, fd='over_cap') + reply(0) + reply(1) + add_file(0, 'last_post_snapshot') +
    call('release'),
    'files-at-the-root': register_paths(['/fake/c'], 'hang_at', 'PostSnapshot') +
    prepared(paths=('/fake/c',)) + call('do_snapshot_set') + add_file(0, form='itself') +
    add_file(0, form='vss_snapshots') + add_file(0, form='itself') + add_file(0) + reply(0) +
    call('release'),
    'files-cap': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') + prepared() +
    call('do_snapshot_set') + add_file(0, fd='almost_cap') + add_file(0, form='wal') +
    add_file(0, fd='almost_cap') + provider('toggle_add_file_failure') +
    add_file(0, form='wal') + reply(0) + call('release'),
    'files-abort': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') + prepared() +
    call('do_snapshot_set') + add_file(0) + call('abort') + add_file(0) + call('release'),
    'files-manual-provider': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') +
    provider('toggle_manual') + prepared() + call('do_snapshot_set') + grant() + grant() +
    add_file(0) + add_file(0, form='wal') + reply(0) + grant() + add_file(0) + call('abort') +
    grant() + grant() + grant() + grant() + call('release') + grant(),
    'files-seal-waits-for-copies': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') +
    provider('toggle_manual') + prepared() + call('do_snapshot_set') + grant() + grant() +
    add_file(0) + add_file(0, form='wal') + reply(0) + grant() + grant() + grant() + grant() +
    call('backup_complete') + call('release') + grant(),
    'files-nested': register_paths(['/fake/a/data', '/fake/a/nested/db'], 'hang_at',
                                   'PostSnapshot') +
    prepared(paths=('/fake/a', '/fake/a/nested')) + call('do_snapshot_set') +
    add_file(0, base=1) + add_file(0) + reply(0) + call('release'),
    'files-create': register_paths(['/fake/a/data'], 'hang_at', 'PostSnapshot') +
    create_set(('a',), persistent=True) + add_file(0) + add_file(0, form='wal') + reply(0),
    'files-post-snapshot-fails': register_paths(['/fake/a/data'], 'manual') +
    call('init_backup') + call('gather') + reply(0) + call('start_set') + add(0, '/fake/a') +
    call('prepare') + reply(0) + call('do_snapshot_set') + reply(0) + reply(0) + reply(0) +
    add_file(0) + reply(0, 0, 'retryable') + add_file(0) + call('abort') + call('release'),
    # the service bugs the fuzzer found (fuzz/README.md, "Bugs it found")
    'bug-create-cancel-during-backup-complete': register('hang_at', 'BackupComplete') +
    create_set(('a',), persistent=True) + cancel_create(),
    'bug-create-leaks-its-backup': create_set(('a',), writers=False),
    'bug-files-subvolume-root-read-past-path':
    register_paths(['/fake/c'], 'hang_at', 'PostSnapshot') +
    prepared(paths=('/fake/c',)) + call('do_snapshot_set') + add_file(0, form='itself') +
    reply(0) + call('release'),
    'bug-files-nested-outer-snapshot': register_paths(['/fake/a'], 'hang_at', 'PostSnapshot') +
    prepared(paths=('/fake/a', '/fake/a/nested')) + call('do_snapshot_set') +
    add_file(0, form='nested') + reply(0) + call('release'),
    'bug-create-shutdown-during-backup-complete': register('hang_at', 'BackupComplete') +
    create_set(('a',), persistent=True) + shutdown(),
    'files-nested-not-in-the-set': register_paths(['/fake/a'], 'hang_at', 'PostSnapshot') +
    prepared(paths=('/fake/a',)) + call('do_snapshot_set') +
    add_file(0, form='nested') + reply(0) + call('release'),
}


def write(seeds, out, prefix):
    os.makedirs(out, exist_ok=True)
    for name, steps in seeds.items():
        with open(os.path.join(out, prefix + name), 'wb') as f:
            f.write(bytes(steps))
    print(f'{len(seeds)} seeds in {out}', file=sys.stderr)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    write(SEEDS, os.path.join(here, 'corpus', 'coordinator'), 'seed-')


if __name__ == '__main__':
    main()
