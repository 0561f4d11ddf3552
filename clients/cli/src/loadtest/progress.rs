//! The load test's progress on stderr, one bar per phase (enrolling, each day's offline work
//! and sync, the checks), in the style of the server's demo reset: a run of thousands of
//! phones over many days takes minutes. Hidden when stderr is not a terminal, so scripts and CI
//! logs get no redraws, and cleared at the end, before the report.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar counting `phones` phones through each phase.
    pub fn new(phones: u32) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} phones, {eta} left")
            .expect("a valid template")
            .progress_chars("#>.");
        let bar = ProgressBar::with_draw_target(Some(u64::from(phones)), target).with_style(style);
        Progress { bar }
    }

    /// Starts phase `name`, from no phone done.
    pub fn start(&self, name: impl Into<String>) {
        self.bar.reset();
        self.bar.set_message(name.into());
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
