//! A TCP relay between a server and a service it depends on, which a test
//! can cut (every connection through it dropped, new ones refused, as when
//! the service's machine goes away) and mend (on the same port).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub struct Cuttable {
    addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Cuttable {
    /// Relays 127.0.0.1:<free port> to `target`.
    pub async fn start(target: SocketAddr) -> Cuttable {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        Cuttable { addr, target, task: Some(tokio::spawn(relay(listener, target))) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            // The task owns the listener and every connection's task.
            task.abort();
        }
    }

    /// Relays again, on the same port.
    pub async fn mend(&mut self) {
        let started = std::time::Instant::now();
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(error) if started.elapsed() < std::time::Duration::from_secs(5) => {
                    let _ = error;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(error) => panic!("could not listen on {} again: {error}", self.addr),
            }
        };
        self.task = Some(tokio::spawn(relay(listener, self.target)));
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn relay(listener: TcpListener, target: SocketAddr) {
    // Dropped with this task (`cut`): every connection's task is aborted.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                connections.spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
