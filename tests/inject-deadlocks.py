#!/usr/bin/python3
"""Runs a writer program with deadlocks injected into its BACKUP STAGE statements.

    inject-deadlocks.py STAGE=N[,STAGE=N...] PROGRAM [ARGS...]

The first N `BACKUP STAGE STAGE` statements the program sends fail with
MariaDB's error 1213 before they reach the server, exactly as the server
fails a stage it picked as a deadlock's victim (the stage stays where it
was). MariaDB 10.11 retries the deadlocks of BLOCK_DDL itself, so that a
1213 seldom reaches a client under a real load, yet older servers and the
other stages pass it on: this proves the writer's own retry on demand
(tests/test_writer_mariadb.py).
"""

import re
import runpy
import sys

import pymysql
import pymysql.cursors

ER_LOCK_DEADLOCK = 1213


def main():
    remaining = {}
    for item in sys.argv[1].split(','):
        stage, count = item.split('=')
        remaining[stage.upper()] = int(count)
    execute = pymysql.cursors.Cursor.execute

    def execute_with_deadlocks(cursor, query, args=None):
        match = re.fullmatch(r'\s*BACKUP STAGE (\w+)\s*', str(query), re.I)
        if match and remaining.get(match.group(1).upper(), 0) > 0:
            remaining[match.group(1).upper()] -= 1
            raise pymysql.err.OperationalError(
                ER_LOCK_DEADLOCK, 'Deadlock found when trying to get lock; try restarting '
                'transaction (injected by tests/inject-deadlocks.py)')
        return execute(cursor, query, args)

    pymysql.cursors.Cursor.execute = execute_with_deadlocks
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
