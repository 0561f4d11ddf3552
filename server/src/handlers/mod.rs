//! HTTP handlers by resource: each parses the request, checks who may make it, calls the
//! domain module that does the work (`crate::datasets`, `crate::sync`, ...) and shapes the
//! answer. Nothing outside this folder, the router and the crate root reaches in.

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
    use std::collections::{BTreeMap, BTreeSet};
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
    fn only_the_router_and_the_crate_root_reach_the_handlers() {
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

    /// The top-level modules of `server/src` that `text` names (`crate::x`, or `x` inside a
    /// `use crate::{...}` group), leaving out comments and the code under `#[cfg(test)]`.
    fn modules_named(text: &str) -> BTreeSet<String> {
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let word = |rest: &str| -> String {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let mut named = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // Top-level names of the group: those at brace depth 0.
                let mut depth = 0;
                let mut start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if start && depth == 0 && !c.is_whitespace() => {
                            named.insert(word(&group[i..]));
                            start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                named.insert(word(rest));
            }
        }
        named
    }

    /// "No import circle left in `server/src`": a module may use another only if that one
    /// does not, through any path, use it back; so each layer can be read, changed and tested
    /// with only what lies below it.
    #[test]
    fn no_import_circle_between_the_servers_modules() {
        assert_eq!(
            modules_named("use crate::{a, b::{c, d}, e};\n// crate::f\nlet x = crate::g::h();"),
            ["a", "b", "e", "g"].map(String::from).into()
        );
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let module_of = |path: &Path| -> String {
            let relative = path.strip_prefix(&src).expect("under src");
            let first = relative.components().next().expect("a component");
            first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        };
        let modules: BTreeSet<String> = files.iter().map(|p| module_of(p)).collect();
        let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in &files {
            let module = module_of(path);
            if module == "lib" || module == "main" {
                continue; // the crate roots
            }
            let text = std::fs::read_to_string(path).expect("a source file");
            let named: Vec<String> = modules_named(&text)
                .into_iter()
                .filter(|m| *m != module && modules.contains(m))
                .collect();
            uses.entry(module).or_default().extend(named);
        }
        // A depth-first walk; meeting a module still on the path closes a circle.
        fn walk<'a>(
            module: &'a str,
            uses: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|m| *m == module) {
                return Some(
                    path[at..]
                        .iter()
                        .chain([&module])
                        .map(|m| m.to_string())
                        .collect(),
                );
            }
            if !done.insert(module) {
                return None;
            }
            path.push(module);
            for next in uses.get(module).into_iter().flatten() {
                if let Some(circle) = walk(next, uses, path, done) {
                    return Some(circle);
                }
            }
            path.pop();
            None
        }
        let mut done = BTreeSet::new();
        for module in uses.keys() {
            let circle = walk(module, &uses, &mut Vec::new(), &mut done);
            assert!(
                circle.is_none(),
                "modules that import each other: {}",
                circle.unwrap_or_default().join(" -> ")
            );
        }
    }
}
