//! The login ceiling for `bench/accounts.sh`: how many argon2id password checks per second
//! `domain::PasswordHasher` does with the hashing settings the server would use (the same
//! configuration layers: `config/base.yaml`, `config/{environment}.yaml`, `USERS_API__HASHING__*`),
//! on the CPUs this process may run on (run it under `taskset -c 0` like the server).
//!
//! `cargo run --release -p server --example argon2_ceiling -- [--parallel N] [--seconds D]
//! [--warmup W]`: N tasks (default 64, as many as the benchmark's connections) each verify the
//! right password against one stored hash, in a loop, for W seconds not counted then D
//! seconds counted. The hasher bounds how many run at once (`hashing.max_concurrent`, by
//! default one per CPU core it may use), exactly as in the service. Prints a human line and a
//! `BENCH_JSON {...}` line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use domain::PasswordHasher;
use secrecy::SecretString;
use server::{Environment, settings};

struct Args {
    parallel: usize,
    seconds: f64,
    warmup: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        parallel: 64,
        seconds: 10.0,
        warmup: 1.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--parallel" => {
                args.parallel = value()?.parse().map_err(|e| format!("--parallel: {e}"))?;
            }
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
            }
            "--warmup" => {
                args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let valid = args.parallel > 0
        && args.seconds.is_finite()
        && args.seconds > 0.0
        && args.warmup.is_finite()
        && args.warmup >= 0.0;
    if !valid {
        return Err("--parallel >= 1, --seconds > 0, --warmup >= 0".into());
    }
    Ok(args)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("argon2_ceiling: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let environment = Environment::from_env().map_err(|e| e.to_string())?;
    let settings = settings::load(&settings::config_dir(), environment)
        .map_err(|e| format!("configuration: {e}"))?;
    // The very settings the service hands its PasswordHasher (Settings::domain).
    let hashing = settings.domain().hashing;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let hasher = PasswordHasher::new(&hashing).map_err(|e| e.to_string())?;
        let password = "ceiling-Correct-Horse-Battery-Staple";
        let stored = hasher
            .hash(SecretString::from(password))
            .await
            .map_err(|e| e.to_string())?;
        let counted = Arc::new(AtomicU64::new(0));
        let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let failures = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let warm_end = start + Duration::from_secs_f64(args.warmup);
        let end = warm_end + Duration::from_secs_f64(args.seconds);
        let mut tasks = Vec::with_capacity(args.parallel);
        for _ in 0..args.parallel {
            let (hasher, stored) = (hasher.clone(), stored.clone());
            let (counted, counting, failures) =
                (counted.clone(), counting.clone(), failures.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    let ok = hasher
                        .verify(SecretString::from(password), Some(stored.clone()))
                        .await;
                    // A check counts when it ends in the measured window (as wrk counts
                    // responses): the tasks are queued on the hasher's permits all along.
                    let finished = Instant::now();
                    if !matches!(ok, Ok(true)) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    } else if counting.load(Ordering::Relaxed) && finished <= end {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        tokio::time::sleep_until(warm_end.into()).await;
        counting.store(true, Ordering::Relaxed);
        let cpu_before = process_cpu_seconds();
        let measured_start = Instant::now();
        tokio::time::sleep_until(end.into()).await;
        let measured = measured_start.elapsed().as_secs_f64();
        let cpu_after = process_cpu_seconds();
        let hashes = counted.load(Ordering::Relaxed);
        for task in tasks {
            task.await.map_err(|e| e.to_string())?;
        }
        let failed = failures.load(Ordering::Relaxed);
        if failed > 0 {
            return Err(format!("{failed} checks did not verify"));
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = hashes as f64 / measured;
        println!(
            "argon2id m={} KiB t={} p={}: {rate:.1} verifies/s ({hashes} in {measured:.2} s, \
             {} tasks, {cores} core(s) available, max_concurrent {})",
            hashing.memory_kib,
            hashing.iterations,
            hashing.parallelism,
            args.parallel,
            hashing
                .max_concurrent
                .map_or_else(|| format!("{cores} (one per core)"), |n| n.to_string()),
        );
        println!(
            "BENCH_JSON {{\"hashes_per_s\":{rate:.3},\"hashes\":{hashes},\"seconds\":{measured:.3},\
             \"parallel\":{},\"cores\":{cores},\"memory_kib\":{},\"iterations\":{},\
             \"parallelism\":{},\"max_concurrent\":{},\"cpu_s\":{}}}",
            args.parallel,
            hashing.memory_kib,
            hashing.iterations,
            hashing.parallelism,
            hashing
                .max_concurrent
                .map_or_else(|| "null".to_owned(), |n| n.to_string()),
            match (cpu_before, cpu_after) {
                (Some(a), Some(b)) => format!("{:.3}", b - a),
                _ => "null".to_owned(),
            },
        );
        Ok(())
    })
}

/// This process's user + system CPU seconds, from /proc/self/stat (Linux), if readable.
fn process_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux the benchmark runs on.
    Some((utime + stime) / 100.0)
}
