//! Named steps of long operations where a test can stop the process: to SIGKILL it at a known
//! moment (a demo reset half-written) or to let another writer overtake it (a merge about to
//! commit). Debug builds only, and only when `SURVEY_PAUSE_DIR` names a folder: a step pauses
//! when a file named after it is in that folder (the test "arms" it), renames that file to
//! `<step>.reached` (so the test knows, and so one arming pauses one request) and waits until
//! the test removes it. In release builds [`reached`] does nothing.

/// The request is at `step`: pause here if a test armed it.
pub async fn reached(step: &str) {
    #[cfg(debug_assertions)]
    pause_if_armed(step).await;
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(debug_assertions)]
async fn pause_if_armed(step: &str) {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();
    let Some(folder) = FOLDER.get_or_init(|| std::env::var_os("SURVEY_PAUSE_DIR").map(PathBuf::from)) else {
        return;
    };
    let reached = folder.join(format!("{step}.reached"));
    // The rename is atomic: of requests reaching the step together, one pauses.
    if std::fs::rename(folder.join(step), &reached).is_err() {
        return;
    }
    // Only this request waits: the server goes on serving others (a blocked worker thread
    // could stall the runtime).
    while reached.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
