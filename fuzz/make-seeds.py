#!/usr/bin/python3
"""Writes the hand-made seeds of fuzz-coordinator into corpus/coordinator/.

Each seed is a short script in the fuzzer's input format (fuzz/README.md):
one opcode byte per step, then that step's argument bytes. Keep the opcode
numbers in step with the Op enum of fuzz-harness.h. Seeds found by the
fuzzer itself may sit beside these (named by their SHA-1, as libFuzzer does).
"""
import os
import sys

OPS = ['register', 'unregister', 'reply', 'reply_bad_serial', 'advance', 'provider',
       'provider_grant', 'create', 'init_backup', 'init_restore', 'set_context', 'gather',
       'gather_status', 'start_set', 'add', 'prepare', 'do_snapshot_set', 'backup_complete',
       'abort', 'pre_restore', 'post_restore', 'release', 'delete_snapshots', 'shutdown',
       'store']
OP = {name: i for i, name in enumerate(OPS)}
POLICIES = ['ack', 'manual', 'fail_at', 'hang_at', 'vanish_at']
EVENTS = ['Identify', 'PrepareForBackup', 'PrepareForSnapshot', 'Freeze', 'Thaw',
          'PostSnapshot', 'Abort', 'BackupComplete', 'BackupShutdown', 'PreRestore',
          'PostRestore']
FAILURES = ['retryable', 'non-retryable', 'inconsistent-snapshot', 'out-of-resources', 'timeout']
TIMEOUTS = [None, 10, 20, 50, 100, 1000, 60000, 5]
ADVANCES = [1, 9, 10, 11, 50, 100, 1000, 3600000]
PATHS = ['/fake/a', '/fake/b', '/fake/c', '/fake/a', 'relative/a', '/elsewhere/a',
         '/fake/../etc', '']
CONTEXTS = ['backup', 'persistent', 'bogus', '']
PROVIDER = ['fail_prepare', 'prepare_ok', 'fail_a', 'fail_b', 'snapshots_ok', 'toggle_manual']


def register(policy='ack', event='Identify', failure='retryable', freeze=None, event_ms=None,
             bad_name=False):
    timeouts = TIMEOUTS.index(freeze) | TIMEOUTS.index(event_ms) << 3 | (0xc0 if bad_name else 0)
    return [OP['register'], POLICIES.index(policy), EVENTS.index(event),
            FAILURES.index(failure), timeouts]


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
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'coordinator')
    os.makedirs(out, exist_ok=True)
    for name, steps in SEEDS.items():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(bytes(steps))
    print(f'{len(SEEDS)} seeds in {out}', file=sys.stderr)


if __name__ == '__main__':
    main()
