//! sync-core's integration suite, one binary so it builds once.

mod convergence;
mod documents;
mod engine;
mod engine_merge;
mod history;
mod js_defaults;
mod js_fixture;
mod protocol;
mod reviews;
mod support;
mod tallies;
