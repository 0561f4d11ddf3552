//! A sync request made by the JS Automerge library and a JS CBOR encoder
//! (tests/fixtures/js/make-fixtures.mjs): the v1 contract cannot drift without this failing.

use sync_core::{CheckedDocument, Error, Form, Limits, MergeOutcome, decode_request, merge_incoming};

const REQUEST: &[u8] = include_bytes!("../fixtures/js/request_v1.cbor");
const BAD_TIMESTAMP: &[u8] = include_bytes!("../fixtures/js/request_bad_timestamp.cbor");
const SIDECAR: &str = include_str!("../fixtures/js/request_v1.json");
const FORM: &str = include_str!("../fixtures/js/form.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_request_made_in_javascript_decodes_merges_and_validates() {
    let expected: serde_json::Value = serde_json::from_str(SIDECAR).expect("sidecar");
    let form = Form::from_json(FORM).expect("fixture form");
    let request = decode_request(REQUEST, &Limits::default()).expect("decodes");
    assert_eq!(request.dataset.to_string(), expected["dataset"]);
    assert_eq!(request.epoch, 3);
    assert_eq!(request.docs.len(), 2);
    for (entry, want) in request
        .docs
        .iter()
        .zip(expected["docs"].as_array().expect("docs"))
    {
        assert_eq!(entry.id.to_string(), want["id"]);
        assert_eq!(entry.kind.as_str(), want["kind"]);
        assert_eq!(
            entry.changes.len() as u64,
            want["changes"].as_u64().expect("count")
        );
        let heads: Vec<String> = entry.heads.iter().map(|h| hex(h.as_slice())).collect();
        assert_eq!(serde_json::json!(heads), want["heads"]);

        let MergeOutcome::Merged(mut merged) = merge_incoming(None, &entry.changes).expect("merges") else {
            panic!("every change was sent");
        };
        assert_eq!(merged.heads(), entry.head_hashes());
        match merged.validate(entry.kind, Some(&form)).expect("valid") {
            CheckedDocument::Response(view) => {
                assert_eq!(view.area, "north");
                assert_eq!(view.answers.len(), 5);
            }
            CheckedDocument::Site(site) => {
                assert_eq!(
                    site.tallies.get("contacts"),
                    expected["tallies"]["contacts"].as_i64().as_ref()
                );
                assert_eq!(
                    site.tallies.get("kits"),
                    expected["tallies"]["kits"].as_i64().as_ref()
                );
            }
            CheckedDocument::Form(_) | CheckedDocument::Tally(_) => {
                panic!("no form or tally documents in the fixture")
            }
        }
    }
}

#[test]
fn the_javascript_default_wall_clock_timestamp_is_refused() {
    let request = decode_request(BAD_TIMESTAMP, &Limits::default()).expect("decodes");
    let response = &request.docs[0];
    assert!(
        matches!(merge_incoming(None, &response.changes), Err(Error::NonZeroTimestamp(t)) if t > 1_700_000_000)
    );
}
