//! `search` (RTCA only): how long a search takes over a full store.
//! `--senders` writers, each alone in a public room of its own (so nothing
//! fans out), store `--messages` messages between them, closed-loop, each
//! eight words drawn from a vocabulary of 5 000; then one reader times
//! `--requests` searches for two of those words, one after another.
//! Reports the fill rate and the search latency (p50, p99, max).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{ask, connect, connect_all, new_histogram, run_tag, Args};

/// Distinct words the messages are made of.
const VOCABULARY: u64 = 5_000;
/// Words per message.
const WORDS: usize = 8;

/// Word `n` of the vocabulary: three letters from `a` to `y` and a `z`,
/// so no word is the start of another (a search's words are prefixes).
fn word(n: u64) -> String {
    let mut n = n % VOCABULARY;
    let mut word = String::new();
    for _ in 0..3 {
        word.push((b'a' + (n % 25) as u8) as char);
        n /= 25;
    }
    word.push('z');
    word
}

/// A small deterministic generator: the same messages and queries on
/// every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

pub async fn search(args: &Args) -> Result<Value, String> {
    let (writers, _) = connect_all(args, args.senders, "srch").await?;
    let per_writer = args.messages.div_ceil(writers.len().max(1));
    let started = Instant::now();
    let fills: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, mut writer)| {
            tokio::spawn(async move {
                let mut draw = Draw(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                for _ in 0..per_writer {
                    let text: Vec<String> = (0..WORDS).map(|_| word(draw.next())).collect();
                    let message = match &writer.room {
                        Some(room) => json!(["message", { "text": text.join(" "), "room": room }]),
                        None => json!(["message", { "text": text.join(" ") }]),
                    };
                    let ack = ask(&mut writer.ws, &format!("421{message}")).await?;
                    if !ack.contains("\"ok\":true") {
                        return Err(format!("message refused: {ack}"));
                    }
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for fill in fills {
        fill.await.map_err(|e| format!("writer: {e}"))??;
    }
    let stored = per_writer * args.senders;
    let fill_secs = started.elapsed().as_secs_f64();
    println!("search: {stored} messages stored in {fill_secs:.1}s ({:.0}/s)", stored as f64 / fill_secs);

    let mut reader = connect(&args.url, &format!("reader{}", run_tag())).await?;
    let mut draw = Draw(0x2545_f491_4f6c_dd1d);
    let mut took = new_histogram();
    let mut found = 0u64;
    for _ in 0..args.requests {
        let q = format!("{} {}", word(draw.next()), word(draw.next()));
        let at = Instant::now();
        let ack = ask(&mut reader.ws, &format!("421{}", json!(["search", { "q": q }]))).await?;
        let _ = took.record((at.elapsed().as_micros() as u64).max(1));
        let page: Value = serde_json::from_str(&ack).map_err(|e| format!("search ack: {e}"))?;
        let hits = page[0]["hits"].as_array().ok_or_else(|| format!("search refused: {ack}"))?;
        found += hits.len() as u64;
    }
    let ms = |q: f64| took.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "search: {} two-word searches over {stored} messages: ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}; {:.1} hits each",
        args.requests,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        took.max() as f64 / 1000.0,
        found as f64 / args.requests.max(1) as f64
    );
    let _ = reader.ws.close(None).await;
    // Closing the writers' sockets is the server's business when we go.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(json!({
        "scenario": "search", "messages": stored, "requests": args.requests,
        "fill_per_s": stored as f64 / fill_secs,
        "hits_per_search": found as f64 / args.requests.max(1) as f64,
        "search_ms": { "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": took.max() as f64 / 1000.0 },
    }))
}
