//! A throwaway Redis for the tests that join nodes: Debian's
//! `redis-server` on a free port, no persistence, one per test (a test may
//! stop and start it again to play a Redis restart), stopped when dropped
//! and, should the test process die, when its end of a pipe closes (as
//! `common::postgres` does). No Redis installed is a failure that says so
//! (`scripts/install-tools.sh` installs it), never a skipped test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    pub port: u16,
    keeper: Option<Child>,
}

impl Redis {
    /// Starts a Redis on a free port.
    pub fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { port, keeper: None };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (what it held is lost: it keeps nothing on disk).
    pub fn stop(&mut self) {
        if let Some(mut keeper) = self.keeper.take() {
            // Closing its stdin makes the shell stop the server and wait.
            drop(keeper.stdin.take());
            let _ = keeper.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn resume(&mut self) {
        let program = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .unwrap_or_else(|| panic!("Redis is not installed (no redis-server): run scripts/install-tools.sh"));
        let server = format!("{program} --port {} --bind 127.0.0.1 --save '' --appendonly no", self.port);
        let keeper = Command::new("sh")
            .arg("-c")
            .arg(format!("{server} > /dev/null 2>&1 & pid=$!; read _ignored; kill $pid; wait $pid"))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        self.keeper = Some(keeper);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "the test's Redis did not start in 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
