//! A throwaway PostgreSQL for the tests that need one: Debian's server,
//! started once per test process on a free port in a temporary directory
//! (`initdb`, trust authentication on 127.0.0.1 only), a new database per
//! test, and stopped when the process ends, however it ends: the server
//! runs under a shell that stops it once the test process's end of a pipe
//! closes. As root (CI), the server runs as the `postgres` user, which
//! PostgreSQL requires. No PostgreSQL installed is a failure that says so
//! (`scripts/install-tools.sh` installs it), never a skipped test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The process's server.
pub struct Postgres {
    port: u16,
    _dir: tempfile::TempDir,
    /// Its stdin is the pipe whose closing stops the server.
    _keeper: Child,
}

static SERVER: OnceLock<Postgres> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The URL of a new, empty database on the process's server (started on
/// first use).
pub async fn new_database() -> String {
    let server = tokio::task::spawn_blocking(|| SERVER.get_or_init(start)).await.unwrap();
    let name = format!("rtca_test_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    // The port accepts before the server does ("the database system is
    // starting up"): try until it answers.
    let started = Instant::now();
    let mut connection = loop {
        match <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await {
            Ok(connection) => break connection,
            Err(error) if started.elapsed() < Duration::from_secs(30) => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("the test's PostgreSQL never answered: {error}"),
        }
    };
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.unwrap();
    format!("postgres://postgres@127.0.0.1:{}/{name}", server.port)
}

/// The database standing for the SQLite file `path`: the same one each
/// time it is asked for, so that a server restarted on it finds its
/// history (`RTCA_TEST_DATABASE=postgres`, `TestServer`).
pub async fn database_for(path: &Path) -> String {
    static NAMED: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());
    let known = NAMED.lock().unwrap().iter().find(|(p, _)| p == path).map(|(_, url)| url.clone());
    if let Some(url) = known {
        return url;
    }
    let url = new_database().await;
    NAMED.lock().unwrap().push((path.to_owned(), url.clone()));
    url
}

/// Where Debian keeps the server's programs (the newest version), or the
/// directory `RTCA_TEST_PG_BIN` names.
fn programs() -> PathBuf {
    if let Some(dir) = std::env::var_os("RTCA_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin")).filter(|p| p.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()?.parse::<u32>().ok()));
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/install-tools.sh")
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|out| out.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// `program` with `args`, as the `postgres` user when we are root.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start() -> Postgres {
    let bin = programs();
    let root = is_root();
    let dir = tempfile::Builder::new().prefix("rtca-pg-").tempdir().unwrap();
    if root {
        let chown = Command::new("chown").arg("-R").arg("postgres").arg(dir.path()).status().unwrap();
        assert!(chown.success(), "could not give the test's PostgreSQL directory to the postgres user");
    }
    let data = dir.path().join("data");
    let initdb = as_server_user(&bin.join("initdb"), root)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // The server stops (fast shutdown) when our end of the shell's stdin
    // closes: at exit, or if this process is killed.
    let server = format!(
        "{} -D {} -p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
        bin.join("postgres").display(),
        data.display(),
        dir.path().display()
    );
    let keeper = as_server_user(Path::new("sh"), root)
        .arg("-c")
        .arg(format!(
            "{server} > {dir}/log 2>&1 & pid=$!; read _ignored; kill -INT $pid; wait $pid; rm -rf {dir}",
            dir = dir.path().display()
        ))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            let mut log = String::new();
            let _ = std::fs::File::open(dir.path().join("log")).and_then(|mut f| f.read_to_string(&mut log));
            panic!("the test's PostgreSQL did not start in 30 s:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Postgres { port, _dir: dir, _keeper: keeper }
}
