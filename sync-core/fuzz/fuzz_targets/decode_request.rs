#![no_main]
//! Any body a device can send: decoding must fail with a typed error, never panic, and every
//! change it carries must go through the merge step the same way.

use libfuzzer_sys::fuzz_target;
use sync_core::{Limits, MergeOutcome, decode_request, merge_incoming};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(request) = decode_request(bytes, &Limits::default()) {
        for entry in &request.docs {
            if let Ok(MergeOutcome::Merged(mut merged)) = merge_incoming(None, &entry.changes) {
                let _ = merged.validate(entry.kind, None);
                let _ = merged.save();
            }
        }
    }
});
