//! Throughput of opsdeck's warmup and invalidation on a given server, for
//! scripts/bench-redis.sh. Prints one line: `<keys> <seconds> <keys/s>`.
//!
//!   bench_redis warmup URL FILE.jsonl
//!   bench_redis invalidate URL PATTERN [MAX_KEYS_PER_SEC]

use opsdeck::config::{CacheConfig, InvalidateConfig, RedisConfig};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::invalidate::{InvalidateOptions, InvalidateTarget, invalidate};
use opsdeck::ops::warmup::{WarmupOptions, load, warmup};
use opsdeck::ops::{ActionEvent, CancelFlag};
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_redis warmup URL FILE | invalidate URL PATTERN [MAX_KEYS_PER_SEC]";
    let (mode, url) = match (args.get(1), args.get(2)) {
        (Some(m), Some(u)) => (m.as_str(), u.clone()),
        _ => return Err(usage.into()),
    };
    let redis = RedisConfig {
        url: Some(url),
        ..RedisConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("opsdeck-bench-{}", std::process::id()));
    let audit = Audit::new(dir.join("audit.jsonl"));
    // Progress is not printed; a large buffer keeps try_send from ever mattering.
    let (tx, mut rx) = mpsc::channel::<ActionEvent>(1024);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let cancel = CancelFlag::default();
    let started = Instant::now();
    let keys = match mode {
        "warmup" => {
            let file = args.get(3).ok_or(usage)?;
            let opts = WarmupOptions::from_config(&CacheConfig::default());
            let plan = load(Path::new(file), &opts).map_err(|e| e.to_string())?;
            eprintln!(
                "parsed and keyed in {:.3} s",
                started.elapsed().as_secs_f64()
            );
            let r = warmup(&redis, &plan, &opts, &audit, &tx, &cancel)
                .await
                .map_err(|e| e.to_string())?;
            r.written
        }
        "invalidate" => {
            let pattern = args.get(3).ok_or(usage)?;
            let mut opts = InvalidateOptions::from_config(&InvalidateConfig::default());
            if let Some(max) = args.get(4) {
                opts.max_keys_per_sec = max.parse().map_err(|_| usage)?;
            }
            let r = invalidate(
                &redis,
                &InvalidateTarget::Pattern(pattern.clone()),
                &InvalidateConfig::default(),
                &opts,
                &audit,
                &tx,
                &cancel,
            )
            .await
            .map_err(|e| e.to_string())?;
            r.deleted
        }
        _ => return Err(usage.into()),
    };
    let secs = started.elapsed().as_secs_f64();
    println!("{keys} {secs:.3} {:.0}", keys as f64 / secs);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
