//! Request bodies that must keep coming: each part within an idle timeout,
//! and, once that first stretch is over, at no less than a minimum rate.
//! A body that stalls or trickles ends in [`BodyTimeout`], which the
//! upload route answers `408 request_timeout` (removing what it had
//! staged), and which frees whatever the request held: an upload slot, a
//! connection.
//!
//! Why: without it, an upload whose body stops arriving holds its upload
//! slot forever, and a few such uploads from one address lock everyone
//! else out of sharing files.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use futures::{Stream, StreamExt};
use tokio::time::Instant;

/// How long a body may pause, and how fast it must come on average after
/// its first pause-long stretch.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    pub idle: Duration,
    pub min_bytes_per_second: u64,
}

/// Why a body ended early.
#[derive(Debug, thiserror::Error)]
#[error("the request body stopped arriving, or came too slowly")]
pub struct BodyTimeout;

impl BodyTimeout {
    /// Whether `error`, or anything it wraps, is a body that timed out.
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(error);
        while let Some(error) = cause {
            if error.is::<BodyTimeout>() {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// Puts every request body that can have one on the clock.
pub async fn paced_body(State(pace): State<BodyPace>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = Body::from_stream(paced(body.into_data_stream(), pace));
    next.run(Request::from_parts(parts, body)).await
}

/// `stream`, ended with [`BodyTimeout`] when it pauses longer than
/// `pace.idle`, or falls behind `pace.min_bytes_per_second` once
/// `pace.idle` has passed.
fn paced<S>(stream: S, pace: BodyPace) -> impl Stream<Item = Result<Bytes, axum::BoxError>>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Send + Unpin,
{
    let started = Instant::now();
    futures::stream::unfold(Some((stream, 0u64)), move |state| async move {
        let (mut stream, received) = state?;
        let next = match tokio::time::timeout(pace.idle, stream.next()).await {
            Err(_) => return Some((Err(BodyTimeout.into()), None)),
            Ok(next) => next?,
        };
        match next {
            Ok(chunk) => {
                let received = received + chunk.len() as u64;
                let elapsed = started.elapsed();
                let owed = elapsed.saturating_sub(pace.idle).as_secs_f64() * pace.min_bytes_per_second as f64;
                if (received as f64) < owed {
                    return Some((Err(BodyTimeout.into()), None));
                }
                Some((Ok(chunk), Some((stream, received))))
            }
            Err(error) => Some((Err(error.into()), None)),
        }
    })
    // A body may be read again after its end (a refused upload's rest is
    // drained); `unfold` would panic.
    .fuse()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pace() -> BodyPace {
        BodyPace { idle: Duration::from_millis(200), min_bytes_per_second: 1000 }
    }

    async fn collect(stream: impl Stream<Item = Result<Bytes, axum::Error>> + Send + Unpin) -> Result<usize, bool> {
        let mut total = 0;
        let mut body = std::pin::pin!(paced(stream, pace()));
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => total += chunk.len(),
                Err(error) => return Err(BodyTimeout::caused(error.as_ref())),
            }
        }
        Ok(total)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_coming_passes() {
        let chunks = futures::stream::iter((0..10).map(|_| Ok(Bytes::from(vec![0u8; 500])))).then(|chunk| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            chunk
        });
        assert_eq!(collect(Box::pin(chunks)).await, Ok(5000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_may_be_read_again_after_its_end() {
        let mut body = std::pin::pin!(paced(futures::stream::iter([Ok(Bytes::from_static(b"a"))]), pace()));
        assert!(body.next().await.is_some());
        assert!(body.next().await.is_none());
        assert!(body.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_times_out() {
        let stalled = futures::stream::iter([Ok(Bytes::from_static(b"a"))]).chain(futures::stream::pending());
        assert_eq!(collect(Box::pin(stalled)).await, Err(true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_trickles_times_out() {
        // A byte every 150 ms: never idle for 200, far under 1000 a second.
        let trickle = futures::stream::iter((0..100).map(|_| Ok(Bytes::from_static(b"a")))).then(|chunk| async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            chunk
        });
        assert_eq!(collect(Box::pin(trickle)).await, Err(true));
    }
}
