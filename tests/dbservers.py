"""Real PostgreSQL 15 and MariaDB servers for the writer tests and the
consistency benchmark: throw-away data directories, a private socket
directory and port, never the distribution's default cluster or instance.
Each server runs as its distribution's OS user (postgres, mysql), as root may
not run them."""

import os
import shutil
import signal
import subprocess
import time
import unittest

from vsstest import SANITIZER_VARIABLES

PG_BIN = '/usr/lib/postgresql/15/bin'


def require(modules=(), programs=()):
    """Skips the test class when a database server or client module is missing."""
    import importlib
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise unittest.SkipTest(f'python3 module {module} is missing (scripts/deps.sh)')
    for program in programs:
        if shutil.which(program) is None and not os.path.exists(program):
            raise unittest.SkipTest(f'{program} is missing (scripts/deps.sh)')


def server_env():
    """The database servers are not ours to instrument (their exit would
    report their own leaks)."""
    return {k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES}


def as_user(user, argv):
    return ['setpriv', f'--reuid={user}', f'--regid={user}', '--init-groups', '--', *argv]


def chown_tree(path, user):
    subprocess.run(['chown', '-R', f'{user}:{user}', path], check=True)


def read_log(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


class PostgresServer:
    """A PostgreSQL cluster; root connects as the postgres role through the
    peer map root -> postgres, the postgres OS user by plain peer auth."""

    USER = 'postgres'

    def __init__(self, datadir, port, socket_dir, log_path, waldir=None):
        self.datadir = datadir
        self.port = port
        self.socket_dir = socket_dir
        self.log_path = log_path
        self.waldir = waldir

    def initdb(self, settings=None):
        for path in (self.datadir, self.waldir, self.socket_dir):
            if path:
                os.makedirs(path, exist_ok=True)
        for path in (self.datadir, self.socket_dir):
            chown_tree(path, self.USER)
        os.chmod(self.datadir, 0o700)
        argv = [f'{PG_BIN}/initdb', '-D', self.datadir, '--auth-local=peer', '--no-sync',
                '-U', 'postgres']
        if self.waldir:
            # initdb wants an empty directory it owns (a subvolume root, which
            # cannot be removed and made again) or a missing one it can make
            if os.listdir(self.waldir):
                raise ValueError(f'{self.waldir}: not empty')
            chown_tree(self.waldir, self.USER)
            argv += ['--waldir', self.waldir]
        subprocess.run(as_user(self.USER, argv), check=True, stdout=subprocess.DEVNULL,
                       env=server_env())
        with open(os.path.join(self.datadir, 'pg_hba.conf'), 'w') as f:
            f.write('local all all peer map=vss\n')
        with open(os.path.join(self.datadir, 'pg_ident.conf'), 'w') as f:
            f.write('vss postgres postgres\nvss root postgres\n')
        conf = {
            'port': self.port, 'unix_socket_directories': f"'{self.socket_dir}'",
            'listen_addresses': "''", 'max_wal_size': "'96MB'", 'min_wal_size': "'32MB'",
            'shared_buffers': "'32MB'", 'fsync': 'on', 'logging_collector': 'off',
            'cluster_name': "'vss-test'",
        }
        conf.update(settings or {})
        with open(os.path.join(self.datadir, 'postgresql.auto.conf'), 'a') as f:
            for key, value in conf.items():
                f.write(f'{key} = {value}\n')

    def start(self, timeout=60):
        # pg_ctl, as postgres, appends to its log
        with open(self.log_path, 'a'):
            pass
        chown_tree(self.log_path, self.USER)
        subprocess.run(as_user(self.USER, [f'{PG_BIN}/pg_ctl', '-D', self.datadir, '-l',
                                           self.log_path, '-w', '-t', str(timeout), 'start']),
                       check=True, stdout=subprocess.DEVNULL, env=server_env())

    def stop(self, mode='fast'):
        if not os.path.exists(os.path.join(self.datadir, 'postmaster.pid')):
            return
        result = subprocess.run(as_user(self.USER, [f'{PG_BIN}/pg_ctl', '-D', self.datadir,
                                                    '-m', mode, '-w', '-t', '60', 'stop']),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=server_env())
        if result.returncode != 0 and mode != 'immediate':
            self.stop('immediate')

    def restart(self):
        self.stop()
        self.start()

    def connect(self, dbname='postgres'):
        import psycopg2
        connection = psycopg2.connect(host=self.socket_dir, port=self.port, user='postgres',
                                      dbname=dbname, connect_timeout=10)
        connection.autocommit = True
        return connection

    def sql(self, query, args=(), dbname='postgres'):
        connection = self.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, args)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def pgbench_argv(self, *args):
        return as_user(self.USER, [f'{PG_BIN}/pgbench', '-h', self.socket_dir,
                                   '-p', str(self.port), *args, 'postgres'])

    def pgbench(self, *args, **kwargs):
        return subprocess.Popen(self.pgbench_argv(*args), env=server_env(), **kwargs)

    def log(self):
        return read_log(self.log_path)


def pgbench_invariants(server):
    """pgbench's balances agree: each transaction adds the same delta to an
    account, a teller, a branch and the history. [] when they do."""
    (accounts, tellers, branches, history), = server.sql(
        'SELECT (SELECT sum(abalance) FROM pgbench_accounts),'
        ' (SELECT sum(tbalance) FROM pgbench_tellers),'
        ' (SELECT sum(bbalance) FROM pgbench_branches),'
        ' (SELECT coalesce(sum(delta), 0) FROM pgbench_history)')
    if accounts == tellers == branches == history:
        return []
    return [f'balances disagree: accounts {accounts}, tellers {tellers}, branches {branches}, '
            f'history {history}']


def amcheck(server):
    """amcheck over every btree index (with heapallindexed) and every table
    (verify_heapam) of the pgbench database: [] when it finds nothing."""
    import psycopg2
    problems = []
    server.sql('CREATE EXTENSION IF NOT EXISTS amcheck')
    indexes = server.sql(
        "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE a.amname = 'btree' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND c.relpersistence <> 't'")
    for (index,) in indexes:
        try:
            server.sql('SELECT bt_index_check(%s::regclass, true)', (index,))
        except psycopg2.Error as e:
            problems.append(f'bt_index_check({index}): {str(e).strip()}')
    tables = server.sql(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm', 't') "
        "AND n.nspname NOT IN ('information_schema') AND c.relpersistence <> 't'")
    for (table,) in tables:
        try:
            rows = server.sql('SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass)',
                              (table,))
        except psycopg2.Error as e:
            problems.append(f'verify_heapam({table}): {str(e).strip()}')
            continue
        problems += [f'verify_heapam({table}) block {b} item {o}: {m}' for b, o, m in rows]
    return problems


class MariadbServer:
    """A MariaDB server; root connects through the unix_socket plugin."""

    USER = 'mysql'

    def __init__(self, datadir, socket_path, log_path, binlog_dir=None, extra_args=()):
        self.datadir = datadir
        self.socket = socket_path
        self.log_path = log_path
        self.binlog_dir = binlog_dir
        self.extra_args = list(extra_args)
        self.process = None

    def args(self):
        args = ['--no-defaults', f'--datadir={self.datadir}', f'--socket={self.socket}',
                '--skip-networking', f'--user={self.USER}', f'--log-error={self.log_path}',
                f'--pid-file={self.datadir}/mariadb.pid', '--innodb-buffer-pool-size=32M',
                '--innodb-log-file-size=16M', '--skip-name-resolve', '--server-id=1']
        if self.binlog_dir:
            args.append(f'--log-bin={self.binlog_dir}/mariadb-bin')
        return args + self.extra_args

    def install(self):
        for path in (self.datadir, self.binlog_dir, os.path.dirname(self.socket)):
            if path:
                os.makedirs(path, exist_ok=True)
                chown_tree(path, self.USER)
        subprocess.run(['mariadb-install-db', *self.args(), '--skip-test-db',
                        '--auth-root-authentication-method=socket'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=server_env())

    def start(self, timeout=60):
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(['mariadbd', *self.args()], stdout=log,
                                            stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=server_env())

        def up():
            if self.process.poll() is not None:
                raise AssertionError(f'mariadbd exited with {self.process.returncode}:\n'
                                     + self.log()[-3000:])
            self.sql('SELECT 1')
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                up()
                return
            except AssertionError:
                raise
            except Exception:
                if time.monotonic() > deadline:
                    raise AssertionError('mariadbd did not start:\n' + self.log()[-3000:])
                time.sleep(0.1)

    def stop(self, timeout=60):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def connect(self, **kwargs):
        import pymysql
        return pymysql.connect(unix_socket=self.socket, user='root', autocommit=True,
                               **kwargs)

    def sql(self, query, args=None):
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, args)
                return cursor.fetchall()
        finally:
            connection.close()

    def log(self):
        return read_log(self.log_path)


def map_path(path, copies):
    """path under one of the live roots of copies ({live: copy}), in its copy."""
    for live, copy in copies.items():
        if path == live or path.startswith(live.rstrip('/') + '/'):
            return copy + path[len(live):]
    return path


def restore_postgres(server, copies, port, name):
    """A PostgreSQL server on copies of snapshots ({live subvolume: copy}):
    the WAL symlink and the tablespaces pointed at the copies, as an admin
    restoring to another place would (tablespace_map's paths fixed, docs/design.md §9),
    the pid file excluded as the writer's metadata says. Not started."""
    datadir = map_path(server.datadir, copies)
    for excluded in ('postmaster.pid', 'postmaster.opts'):
        if os.path.exists(os.path.join(datadir, excluded)):
            os.unlink(os.path.join(datadir, excluded))
    links = [os.path.join(datadir, 'pg_wal')]
    tblspc = os.path.join(datadir, 'pg_tblspc')
    links += [os.path.join(tblspc, n) for n in os.listdir(tblspc)]
    for link in links:
        if os.path.islink(link):
            target = map_path(os.readlink(link), copies)
            os.unlink(link)
            os.symlink(target, link)
            os.lchown(link, *_ids(server.USER))
    tablespace_map = os.path.join(datadir, 'tablespace_map')
    if os.path.exists(tablespace_map):
        with open(tablespace_map) as f:
            lines = f.read().split('\n')
        fixed = []
        for line in lines:
            if ' ' in line:
                oid, path = line.split(' ', 1)
                line = f'{oid} {map_path(path, copies)}'
            fixed.append(line)
        with open(tablespace_map, 'w') as f:
            f.write('\n'.join(fixed))
    with open(os.path.join(datadir, 'postgresql.auto.conf'), 'a') as f:
        f.write(f"port = {port}\ncluster_name = 'vss-restored'\n")
    # its log beside the sockets, where the postgres user may write
    return PostgresServer(datadir, port, server.socket_dir,
                          os.path.join(server.socket_dir, f'{name}.log'))


def _ids(user):
    import pwd
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


# ---- MariaDB: a load that keeps an invariant in MyISAM, Aria and InnoDB ----------------

MARIADB_ENGINES = ('MyISAM', 'Aria', 'InnoDB')
MARIADB_ROWS = 1000
MARIADB_BALANCE = 1000


def mariadb_schema(server):
    """One table per engine; the sum of bal in each stays ROWS * BALANCE."""
    server.sql('CREATE DATABASE IF NOT EXISTS vss')
    for engine in MARIADB_ENGINES:
        table = f'vss.t_{engine.lower()}'
        server.sql(f'DROP TABLE IF EXISTS {table}')
        server.sql(f'CREATE TABLE {table} (id INT PRIMARY KEY, bal BIGINT NOT NULL, '
                   f'pad VARCHAR(200) NOT NULL, KEY (bal)) ENGINE={engine}')
        server.sql(f'INSERT INTO {table} SELECT seq, {MARIADB_BALANCE}, REPEAT("x", 100) '
                   f"FROM vss.seq_1_to_{MARIADB_ROWS}")


def mariadb_load(socket, seconds, lock_tables=False):
    """Transfers between rows of each table (one UPDATE: the sum stays) and
    inserts of rows with nothing on them, until seconds are over; with
    lock_tables, the MyISAM and Aria statements run under LOCK TABLES."""
    import random
    import pymysql
    connection = pymysql.connect(unix_socket=socket, user='root', autocommit=True)
    cursor = connection.cursor()
    deadline = time.monotonic() + seconds
    # above every row an earlier load inserted
    next_id = MARIADB_ROWS + 1
    for engine in MARIADB_ENGINES:
        cursor.execute(f'SELECT max(id) FROM vss.t_{engine.lower()}')
        next_id = max(next_id, cursor.fetchone()[0] + 1)
    while time.monotonic() < deadline:
        for engine in MARIADB_ENGINES:
            table = f'vss.t_{engine.lower()}'
            a, b = random.sample(range(1, MARIADB_ROWS + 1), 2)
            delta = random.randint(1, 100)
            locked = lock_tables and engine != 'InnoDB'
            if locked:
                cursor.execute(f'LOCK TABLES {table} WRITE')
            cursor.execute(f'UPDATE {table} SET bal = bal + IF(id = {a}, {delta}, -{delta}), '
                           f'pad = REPEAT(CHAR(65 + {delta} % 26), 150) WHERE id IN ({a}, {b})')
            cursor.execute(f'INSERT INTO {table} VALUES ({next_id}, 0, REPEAT("y", 180))')
            if locked:
                cursor.execute('UNLOCK TABLES')
        next_id += 1


def mariadb_checks(server):
    """[] when every table passes CHECK TABLE ... EXTENDED and keeps its sum."""
    problems = []
    for engine in MARIADB_ENGINES:
        table = f'vss.t_{engine.lower()}'
        for _table, _op, kind, text in server.sql(f'CHECK TABLE {table} EXTENDED'):
            if kind != 'status' or text != 'OK':
                problems.append(f'CHECK TABLE {table}: {kind}: {text}')
        try:
            (total,), = server.sql(f'SELECT sum(bal) FROM {table}')
        except Exception as e:
            problems.append(f'{table}: {e}')
            continue
        if total != MARIADB_ROWS * MARIADB_BALANCE:
            problems.append(f'{table}: sum(bal) is {total}, not {MARIADB_ROWS * MARIADB_BALANCE}')
    return problems


def restore_mariadb(server, copies, name):
    """A MariaDB server on copies of snapshots ({live subvolume: copy}), its
    socket and log beside the live server's socket, repairing nothing. Not
    started."""
    datadir = map_path(server.datadir, copies)
    for entry in os.listdir(datadir):
        if entry.endswith('.pid'):
            os.unlink(os.path.join(datadir, entry))
    binlog_dir = map_path(server.binlog_dir, copies) if server.binlog_dir else None
    if binlog_dir:
        # the index names the live binary logs
        index = os.path.join(binlog_dir, 'mariadb-bin.index')
        if os.path.exists(index):
            with open(index) as f:
                names = [map_path(line.strip(), copies) for line in f if line.strip()]
            with open(index, 'w') as f:
                f.write(''.join(n + '\n' for n in names))
    directory = os.path.dirname(server.socket)
    # no automatic repair (the default is BACKUP,QUICK): the checks see the
    # MyISAM and Aria tables as the snapshot left them
    return MariadbServer(datadir, os.path.join(directory, f'{name}.sock'),
                         os.path.join(directory, f'{name}.log'), binlog_dir,
                         list(server.extra_args) + ['--myisam-recover-options=OFF',
                                                    '--aria-recover-options=OFF'])


if __name__ == '__main__':
    import sys
    if sys.argv[1] == 'mariadb-load':
        mariadb_load(sys.argv[2], float(sys.argv[3]), lock_tables='--lock-tables' in sys.argv)
