//! The load test's progress on stderr, one bar per phase (enrolling, each day's offline work
//! and sync, the checks), in the style of the server's demo reset: a run of thousands of
//! phones over many days takes minutes. Hidden when stderr is not a terminal, so scripts and CI
//! logs get no redraws, and cleared at the end, before the report.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    phones: u64,
    shown: bool,
    style: ProgressStyle,
    bar: ProgressBar,
}

impl Progress {
    /// Bars counting `phones` phones through each phase.
    pub fn new(phones: u32) -> Progress {
        let style = ProgressStyle::with_template("{msg} [{wide_bar}] {pos}/{len} phones, {eta} left")
            .expect("a valid template")
            .progress_chars("#>.");
        Progress {
            phones: u64::from(phones),
            shown: std::io::stderr().is_terminal(),
            style,
            bar: ProgressBar::hidden(),
        }
    }

    /// Clears the last phase's bar and starts one for phase `name`, from no phone done.
    pub fn start(&mut self, name: impl Into<String>) {
        self.bar.finish_and_clear();
        let target = if self.shown {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        self.bar = ProgressBar::with_draw_target(Some(self.phones), target)
            .with_style(self.style.clone())
            .with_message(name.into());
    }

    /// `work`, counting each phone it is done with, for [`super::pool::run_parallel`].
    pub fn counted<T, R>(&self, work: impl Fn(usize, T) -> R + Sync) -> impl Fn(usize, T) -> R + Sync {
        let bar = self.bar.clone();
        move |i, item| {
            let result = work(i, item);
            bar.inc(1);
            result
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
