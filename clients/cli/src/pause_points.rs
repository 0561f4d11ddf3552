//! Named steps of a command where a test can stop the process, to SIGKILL it at a known moment
//! (the state file written but not yet renamed over the old one). Debug builds only, and only when `SURVEY_PAUSE_DIR` names a folder: a step pauses
//! when a file named after it is in that folder (the test "arms" it), renames that file to
//! `<step>.reached` (so the test knows, and so one arming pauses one request) and waits until
//! the test removes it. In release builds [`reached`] does nothing.

/// The process is at `step`: pause here if a test armed it.
pub fn reached(step: &str) {
    #[cfg(debug_assertions)]
    pause_if_armed(step);
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(debug_assertions)]
fn pause_if_armed(step: &str) {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();
    let Some(folder) = FOLDER.get_or_init(|| std::env::var_os("SURVEY_PAUSE_DIR").map(PathBuf::from)) else {
        return;
    };
    let reached = folder.join(format!("{step}.reached"));
    if std::fs::rename(folder.join(step), &reached).is_err() {
        return;
    }
    // Blocks this thread: a test process has threads to spare, and nothing else may run here.
    while reached.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
