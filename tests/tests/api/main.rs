//! The server's integration suite, one test binary. Every scenario runs against SQLite and
//! PostgreSQL (`on_both_backends!`); devices are the real sync-core `ClientEngine` over HTTP.

mod support;

mod admin;
mod aggregates;
mod aggregates_attacks;
mod audit;
mod bad_input;
mod bench_ingest;
mod compression;
mod crash;
mod demo;
mod devices;
mod enroll_limit;
mod field_app;
mod foreign_clients;
mod forms;
mod headers;
mod hostile_clients;
mod logs;
mod protocol_v2;
mod protocol_v3;
mod purge;
mod quarantine;
mod refusals;
mod replicas;
mod retention;
mod review;
mod roles;
mod sync_scenarios;
mod tallies;
mod tokens;
mod withdrawal;
mod xlsform;
