//! End-to-end tests live in `tests/api` (one test binary); this library is empty.
