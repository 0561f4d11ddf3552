//! Figures both load generators report the same way.

use std::time::Duration;

/// The value below which `p` percent of `sorted` lie (nearest rank), in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// The peak resident memory of process `pid` (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Linux counts process CPU time in USER_HZ ticks, which its ABI fixes at 100 a second on the
/// architectures this runs on (x86-64, arm64: `getconf CLK_TCK`).
const TICKS_PER_SECOND: f64 = 100.0;

/// The CPU time process `pid` has used so far, user and system, all its threads (Linux
/// `/proc/PID/stat`), in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_seconds_in(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn cpu_seconds_in(stat: &str) -> Option<f64> {
    // Fields are counted after the command name, which is in parentheses and may hold spaces
    // and parentheses: the 12th and 13th after it are the user and system ticks.
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut ticks = after_name.split_whitespace().skip(11);
    let user: f64 = ticks.next()?.parse().ok()?;
    let system: f64 = ticks.next()?.parse().ok()?;
    Some((user + system) / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&sorted, 50.0), 50.0);
        assert_eq!(percentile_ms(&sorted, 99.0), 99.0);
        assert_eq!(percentile_ms(&sorted[..1], 99.0), 1.0);
        assert_eq!(percentile_ms(&[], 50.0), 0.0);
    }

    #[test]
    fn cpu_time_is_the_user_and_system_ticks_after_the_command_name() {
        let stat = "4242 (survey (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 33 0";
        assert_eq!(cpu_seconds_in(stat), Some(3.25));
        assert_eq!(cpu_seconds_in("4242 (cut short) S 1 2"), None);
        assert_eq!(cpu_seconds_in("no name"), None);
    }

    #[test]
    fn reads_the_cpu_time_this_process_spends() {
        if cfg!(target_os = "linux") {
            let before = cpu_seconds(std::process::id()).expect("this process's CPU time");
            let started = std::time::Instant::now();
            let mut spent = 0.0;
            let mut x = 1u64;
            while spent < 0.05 && started.elapsed().as_secs() < 10 {
                for i in 0..100_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
                }
                spent = cpu_seconds(std::process::id()).expect("read") - before;
            }
            assert!(spent >= 0.05, "busy for 10 s and {spent} s counted");
            assert!(cpu_seconds(u32::MAX).is_none(), "no such process");
        }
    }

    #[test]
    fn reads_this_process_peak_memory() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mib(std::process::id()).is_some_and(|mb| mb > 0.0));
        }
    }
}
