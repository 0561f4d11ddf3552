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
