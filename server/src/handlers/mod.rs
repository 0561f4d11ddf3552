//! HTTP handlers by resource: each parses the request, checks who may make it, calls the
//! domain module that does the work (`crate::datasets`, `crate::sync`, ...) and shapes the
//! answer. Nothing outside this folder, the router and the command line's `serve` reaches in.

pub mod aggregates;
pub mod audit;
pub mod built_in_pages;
pub mod datasets;
pub mod devices;
pub mod enrollments;
pub mod field_app;
pub mod form_versions;
pub mod forms;
pub mod openapi;
pub mod ops;
pub mod quarantine;
pub mod query_log;
pub mod responses;
pub mod retention;
pub mod reviews;
pub mod sync;
pub mod tallies;
pub mod tokens;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Whether a line of source reaches the HTTP layer: the router or a handler.
    fn reaches_up(line: &str) -> bool {
        let code = line.trim_start();
        !code.starts_with("//")
            && ["crate::handlers", "handlers::", "crate::router", "router::"]
                .iter()
                .any(|path| code.contains(path))
    }

    fn sources(folder: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// The layering this module's header states: below the handlers, nothing imports them or
    /// the router, so the command line, the demo and the benchmark run the domain's rules and
    /// a change to the HTTP shape of a request stays in `handlers/`.
    #[test]
    fn only_the_router_and_the_serve_command_reach_the_handlers() {
        assert!(reaches_up("use crate::{demo, handlers::tokens};"));
        assert!(!reaches_up("//! served by `crate::handlers::sync`"));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let allowed = ["lib.rs", "router.rs"];
        let offenders: Vec<String> = files
            .iter()
            .filter_map(|path| {
                let relative = path.strip_prefix(&src).expect("under src");
                let exempt =
                    relative.starts_with("handlers") || allowed.iter().any(|f| relative == Path::new(f));
                let text = std::fs::read_to_string(path).expect("a source file");
                (!exempt && text.lines().any(reaches_up)).then(|| relative.display().to_string())
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "these reach the router or a handler: {offenders:?}"
        );
    }
}
