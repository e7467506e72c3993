//! Throughput of opsdeck's warmup and invalidation on a given server, for
//! scripts/bench-redis.sh. Prints one line: `<keys> <seconds> <keys/s>`. Warmup is timed as
//! `opsdeck warmup --file` runs it, from reading the file to the last reply.
//!
//!   bench_redis warmup URL FILE.jsonl
//!   bench_redis invalidate URL PATTERN [MAX_KEYS_PER_SEC]

use opsdeck::config::{CacheConfig, InvalidateConfig, RedisConfig};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::invalidate::{InvalidateOptions, InvalidateTarget, invalidate};
use opsdeck::ops::warmup::{WarmupOptions, WarmupTarget, load, warmup, warmup_file};
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
            let file = Path::new(args.get(3).ok_or(usage)?);
            let opts = WarmupOptions::from_config(&CacheConfig::default());
            let target = WarmupTarget::Redis(&redis);
            let r = warmup_file(target, file, &opts, &audit, &tx, &cancel, &mut |_| {})
                .await
                .map_err(|e| e.to_string())?;
            let secs = started.elapsed().as_secs_f64();
            // The timed run overlaps parsing and writing; each alone, for the split. Writing
            // the same keys again leaves the server as it was.
            let t = Instant::now();
            let plan = load(file, &opts).map_err(|e| e.to_string())?;
            let parse = t.elapsed().as_secs_f64();
            let t = Instant::now();
            warmup(&redis, &plan, &opts, &audit, &tx, &cancel)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "warmup split: parse and key alone {parse:.3} s, write alone {:.3} s, together {secs:.3} s",
                t.elapsed().as_secs_f64()
            );
            println!("{} {secs:.3} {:.0}", r.written, r.written as f64 / secs);
            let _ = std::fs::remove_dir_all(dir);
            return Ok(());
        }
        "invalidate" => {
            let pattern = args.get(3).ok_or(usage)?;
            let mut opts = InvalidateOptions::from_config(&InvalidateConfig::default());
            if let Some(max) = args.get(4) {
                opts.max_keys_per_sec = max.parse().map_err(|_| usage)?;
            }
            let target = InvalidateTarget::Pattern(pattern.clone());
            let plan = opsdeck::ops::invalidate::plan(&target, &InvalidateConfig::default())
                .map_err(|e| e.to_string())?;
            let r = invalidate(&redis, &plan, &opts, &audit, &tx, &cancel)
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
