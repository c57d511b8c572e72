//! CPU time and resident memory of a process, from Linux's /proc.

/// CPU seconds (user, system) and resident set size.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSample {
    pub user: f64,
    pub sys: f64,
    pub rss_kib: u64,
}

impl CpuSample {
    pub fn total(&self) -> f64 {
        self.user + self.sys
    }

    /// CPU used between `earlier` and this sample; memory as of now.
    pub fn since(&self, earlier: &CpuSample) -> CpuSample {
        CpuSample { user: self.user - earlier.user, sys: self.sys - earlier.sys, rss_kib: self.rss_kib }
    }
}

/// Clock ticks per second for /proc/<pid>/stat (USER_HZ: 100 on Linux).
const TICKS: f64 = 100.0;

pub fn cpu(pid: u32) -> Option<CpuSample> {
    read(&format!("/proc/{pid}"))
}

pub fn own_cpu() -> CpuSample {
    read("/proc/self").unwrap_or_default()
}

fn read(dir: &str) -> Option<CpuSample> {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its ')'.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let user = fields.get(11)?.parse::<f64>().ok()? / TICKS;
    let sys = fields.get(12)?.parse::<f64>().ok()? / TICKS;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0);
    Some(CpuSample { user, sys, rss_kib })
}

/// Connections the kernel turned away because a listener's accept queue was
/// full (`TcpExt: ListenOverflows` in /proc/net/netstat), counted since boot
/// for the whole network namespace. A client whose handshake was dropped
/// this way waits for its retransmission, a second or more later.
pub fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    // Pairs of lines: "TcpExt: name name …" then "TcpExt: value value …".
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let names = lines.next()?.split_whitespace();
    let values = lines.next()?.split_whitespace();
    names.zip(values).find(|(name, _)| *name == "ListenOverflows").and_then(|(_, value)| value.parse().ok())
}
