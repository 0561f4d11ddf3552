use proptest::prelude::*;
use serde_bytes::ByteBuf;
use sync_core::{
    DocEntry, DocKind, Error, Limits, LoadedDocument, MergeOutcome, Rejection, SiteTotals, SyncRequest,
    SyncResponse, Totals, decode_request, decode_response, encode_request, encode_response, load_document,
    merge_incoming, merge_into, response, site,
};
use uuid::Uuid;

use crate::support::{form, new_response_edit};

/// A request whose changes are uncompressed, as decoding leaves them.
fn sample_request(docs: usize) -> SyncRequest {
    let dataset = Uuid::new_v4();
    let docs = (0..docs)
        .map(|i| {
            let mut doc = response::create(dataset, form(), &new_response_edit(i as u32)).expect("response");
            let changes = doc
                .get_changes(&[])
                .into_iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect();
            DocEntry::new(Uuid::new_v4(), DocKind::Response, &doc.get_heads(), changes)
        })
        .collect();
    SyncRequest {
        v: 1,
        dataset,
        epoch: 4,
        docs,
        totals_seen: None,
    }
}

#[test]
fn requests_and_responses_round_trip() {
    let request = sample_request(3);
    let bytes = encode_request(&request);
    assert_eq!(decode_request(&bytes, &Limits::default()), Ok(request.clone()));
    let answer = SyncResponse {
        v: 1,
        epoch: 4,
        reset: false,
        docs: request.docs,
        rejected: vec![Rejection {
            id: Uuid::new_v4(),
            code: "invalid".into(),
            message: "no".into(),
        }],
        need_all: vec![Uuid::new_v4()],
        more: true,
        totals: None,
    };
    assert_eq!(
        decode_response(&encode_response(&answer), &Limits::default()),
        Ok(answer)
    );
}

#[test]
fn uuids_are_strings_and_changes_are_byte_strings_on_the_wire() {
    let request = sample_request(1);
    let value: ciborium::Value = ciborium::de::from_reader(&encode_request(&request)[..]).expect("cbor");
    let map = value.as_map().expect("map");
    let field = |name: &str| {
        map.iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v.clone())
            .expect(name)
    };
    assert_eq!(
        field("dataset").as_text(),
        Some(request.dataset.to_string().as_str())
    );
    let doc = field("docs").as_array().expect("docs")[0].clone();
    let doc = doc.as_map().expect("doc");
    let get = |name: &str| {
        doc.iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v.clone())
            .expect(name)
    };
    assert!(get("id").is_text());
    assert_eq!(get("kind").as_text(), Some("response"));
    assert_eq!(
        get("heads").as_array().expect("heads")[0]
            .as_bytes()
            .map(Vec::len),
        Some(32)
    );
    assert!(get("changes").as_array().expect("changes")[0].is_bytes());
}

#[test]
fn bad_cbor_gets_typed_errors() {
    let good = encode_request(&sample_request(2));
    let limits = Limits::default();
    for cut in [0, 1, 5, good.len() / 2, good.len() - 1] {
        assert!(
            matches!(decode_request(&good[..cut], &limits), Err(Error::Cbor(_))),
            "cut at {cut}"
        );
    }
    assert!(matches!(
        decode_request(b"\xff\xfe garbage", &limits),
        Err(Error::Cbor(_))
    ));
    assert!(matches!(
        decode_request(b"{\"v\":1}", &limits),
        Err(Error::Cbor(_))
    ));
    // A byte string that claims 2^60 bytes in a 10-byte body: no huge allocation, an error.
    let mut huge = vec![0xa1, 0x61, b'v', 0x1b];
    huge.extend_from_slice(&(1u64 << 60).to_be_bytes());
    assert!(decode_request(&huge, &limits).is_err());
    let mut claims = vec![0x5b];
    claims.extend_from_slice(&(1u64 << 60).to_be_bytes());
    assert!(matches!(decode_request(&claims, &limits), Err(Error::Cbor(_))));
    // Deep nesting is cut off by the recursion limit rather than the stack.
    let deep = [vec![0x81u8; 100_000], vec![0x01]].concat();
    assert!(matches!(decode_request(&deep, &limits), Err(Error::Cbor(_))));
}

#[test]
fn wrong_version_and_shape_are_refused() {
    let mut request = sample_request(1);
    request.v = 4;
    assert_eq!(
        decode_request(&encode_request(&request), &Limits::default()),
        Err(Error::UnsupportedVersion(4))
    );
    assert_eq!(Error::UnsupportedVersion(4).code(), "unsupported_version");

    // A head that is not 32 bytes, an unknown kind, a uuid that is not one.
    let value: ciborium::Value =
        ciborium::de::from_reader(&encode_request(&sample_request(1))[..]).expect("cbor");
    let docs = value
        .as_map()
        .expect("map")
        .iter()
        .find(|(k, _)| k.as_text() == Some("docs"))
        .expect("docs");
    let doc = docs.1.as_array().expect("docs")[0].as_map().expect("doc");
    for (key, bad) in [
        (
            "heads",
            ciborium::Value::Array(vec![ciborium::Value::Bytes(vec![1, 2, 3])]),
        ),
        ("kind", ciborium::Value::Text("photo".into())),
        ("id", ciborium::Value::Text("not-a-uuid".into())),
        (
            "changes",
            ciborium::Value::Array(vec![ciborium::Value::Text("change".into())]),
        ),
    ] {
        let mut doc = doc.clone();
        doc.iter_mut()
            .find(|(k, _)| k.as_text() == Some(key))
            .expect(key)
            .1 = bad;
        let mut bytes = Vec::new();
        let mut request = value.clone();
        let docs = request
            .as_map_mut()
            .expect("map")
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some("docs"))
            .expect("docs");
        docs.1 = ciborium::Value::Array(vec![ciborium::Value::Map(doc)]);
        ciborium::ser::into_writer(&request, &mut bytes).expect("encode");
        assert!(
            matches!(decode_request(&bytes, &Limits::default()), Err(Error::Cbor(_))),
            "{key}"
        );
    }
}

#[test]
fn limits_bound_what_a_request_may_hold() {
    let request = sample_request(3);
    let bytes = encode_request(&request);
    let tight = Limits {
        max_docs: 2,
        ..Limits::default()
    };
    assert!(matches!(
        decode_request(&bytes, &tight),
        Err(Error::TooLarge {
            what: "documents in one request",
            ..
        })
    ));
    let tight = Limits {
        max_change_bytes: 16,
        ..Limits::default()
    };
    let err = decode_request(&bytes, &tight).expect_err("too large");
    assert_eq!(err.code(), "too_large");
    let mut many = request;
    many.docs[0].changes = vec![ByteBuf::from(vec![0u8; 4]); 20];
    let tight = Limits {
        max_changes_per_doc: 10,
        ..Limits::default()
    };
    assert!(matches!(
        decode_request(&encode_request(&many), &tight),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn garbage_change_bytes_are_malformed_not_a_panic() {
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x85, 0x6f, 0x4a, 0x83],
        b"not a change at all".to_vec(),
    ];
    for bytes in garbage {
        let err = merge_incoming(None, &[bytes]).err().expect("refused");
        assert_eq!(err.code(), "malformed");
    }
    let err = merge_incoming(Some(b"not a document"), &Vec::<Vec<u8>>::new())
        .err()
        .expect("refused");
    assert_eq!(err.code(), "malformed");
}

#[test]
fn a_change_with_missing_dependencies_asks_for_everything() {
    let mut doc = response::create(Uuid::new_v4(), form(), &new_response_edit(1)).expect("response");
    let first = doc.get_heads();
    response::apply_edit(
        &mut doc,
        form(),
        &sync_core::ResponseEdit {
            area: Some("north".into()),
            ..Default::default()
        },
    )
    .expect("edit");
    let later: Vec<Vec<u8>> = doc
        .get_changes(&first)
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    assert_eq!(later.len(), 1);
    assert!(matches!(merge_incoming(None, &later), Ok(MergeOutcome::NeedAll)));
}

/// A server that keeps a busy document loaded merges into it and must end exactly where
/// merging into the stored bytes would: same heads, same saved bytes, same changes to send.
#[test]
fn merging_into_a_loaded_document_equals_merging_into_its_bytes() {
    let dataset = Uuid::new_v4();
    let mut stored = site::create(dataset, "s1", "Site", site::DEFAULT_METRICS).expect("site");
    let base = stored.save();
    let mut phone = load_document(&base).expect("phone copy");
    site::increment(&mut phone, "contacts", 3).expect("bump");
    let incoming: Vec<Vec<u8>> = phone
        .get_changes(&stored.get_heads())
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    let (Ok(MergeOutcome::Merged(mut from_bytes)), Ok(MergeOutcome::Merged(mut loaded))) = (
        merge_incoming(Some(&base), &incoming),
        merge_into(
            LoadedDocument::new(load_document(&base).expect("loaded")),
            &incoming,
        ),
    ) else {
        panic!("both merge");
    };
    assert!(from_bytes.changed() && loaded.changed());
    assert_eq!(from_bytes.heads(), loaded.heads());
    assert_eq!(from_bytes.save(), loaded.save());
    assert_eq!(
        from_bytes.changes_missing_from(&[]),
        loaded.changes_missing_from(&[])
    );
    let doc = loaded.into_loaded();

    // Merged again, the same changes change nothing.
    let again = merge_into(doc, &incoming);
    let Ok(MergeOutcome::Merged(again)) = again else {
        panic!("merges")
    };
    assert!(!again.changed());
    let doc = again.into_document();
    assert_eq!(site::read(&doc).expect("read").tallies["contacts"], 3);
    let err = merge_into(LoadedDocument::new(stored.fork()), &[b"not a change".to_vec()])
        .err()
        .expect("refused");
    assert_eq!(err.code(), "malformed");
}

/// The codes a refusal of bytes from outside may carry. Anything else, or a panic, means a
/// check missed a case.
const REFUSALS: &[&str] = &["malformed", "unsupported_version", "too_large", "invalid"];

/// Runs `f`, failing the case (not the whole run) if it panics.
fn without_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| TestCaseError::fail(format!("{what} panicked")))
}

fn refused_with_a_wire_code(err: &Error) -> Result<(), TestCaseError> {
    prop_assert!(REFUSALS.contains(&err.code()), "{err} has code {}", err.code());
    Ok(())
}

/// Whatever a merge made of outside bytes: a typed refusal, or a document that is checked
/// without a panic and, if the check passes (only then is it stored), saves to bytes that load
/// again.
fn merge_is_refused_or_whole(
    outcome: sync_core::Result<MergeOutcome>,
    kind: DocKind,
) -> Result<(), TestCaseError> {
    match outcome {
        Err(err) => refused_with_a_wire_code(&err),
        Ok(MergeOutcome::Merged(mut merged)) => {
            let checked = without_panic("validate", || merged.validate(kind, Some(form())))?;
            let saved = without_panic("save", || merged.save())?;
            if checked.is_ok() {
                let loaded = load_document(&saved);
                prop_assert!(
                    loaded.is_ok(),
                    "a checked document saved to bytes that do not load: {:?}",
                    loaded.err()
                );
            }
            Ok(())
        }
        Ok(_) => Ok(()),
    }
}

// No fixed case count: PROPTEST_CASES chooses it (256 when unset).
proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let limits = Limits::default();
        match without_panic("decode_request", || decode_request(&bytes, &limits))? {
            Ok(request) => {
                let again = decode_request(&encode_request(&request), &limits);
                prop_assert_eq!(again.ok(), Some(request), "a decoded request encodes to itself");
            }
            Err(err) => refused_with_a_wire_code(&err)?,
        }
        match without_panic("decode_response", || decode_response(&bytes, &limits))? {
            Ok(answer) => {
                let again = decode_response(&encode_response(&answer), &limits);
                prop_assert_eq!(again.ok(), Some(answer), "a decoded response encodes to itself");
            }
            Err(err) => refused_with_a_wire_code(&err)?,
        }
        let as_change = without_panic("merge a change", || merge_incoming(None, std::slice::from_ref(&bytes)))?;
        merge_is_refused_or_whole(as_change, DocKind::Response)?;
        let as_document = without_panic("merge into a document", || merge_incoming(Some(&bytes), &Vec::<Vec<u8>>::new()))?;
        merge_is_refused_or_whole(as_document, DocKind::Response)?;
        if let Err(err) = without_panic("load an engine", || sync_core::ClientEngine::load(&bytes))? {
            refused_with_a_wire_code(&err)?;
        }
    }

    /// A request with a few bytes changed: refused, or merged into a document that loads again.
    /// It found two ways a device could store a document nobody can load (the two tests above).
    #[test]
    fn mutated_requests_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = encode_request(&sample_request(2));
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] = value;
        }
        match without_panic("decode_request", || decode_request(&bytes, &Limits::default()))? {
            Err(err) => refused_with_a_wire_code(&err)?,
            Ok(request) => {
                for entry in &request.docs {
                    let merged = without_panic("merge", || merge_incoming(None, &entry.changes))?;
                    merge_is_refused_or_whole(merged, entry.kind)?;
                }
            }
        }
    }
}

fn v2_answer(state: Vec<u8>) -> SyncResponse {
    SyncResponse {
        v: 2,
        epoch: 1,
        reset: false,
        docs: vec![DocEntry::with_state(Uuid::new_v4(), DocKind::Site, &[], state)],
        rejected: Vec::new(),
        need_all: Vec::new(),
        more: false,
        totals: None,
    }
}

#[test]
fn only_a_v2_server_sends_state_and_only_alone() {
    let limits = Limits::default();
    let answer = v2_answer(vec![1, 2, 3]);
    assert_eq!(
        decode_response(&encode_response(&answer), &limits),
        Ok(answer.clone())
    );

    let mut v1 = answer.clone();
    v1.v = 1;
    assert!(matches!(
        decode_response(&encode_response(&v1), &limits),
        Err(Error::Cbor(_))
    ));
    let mut with_changes = answer.clone();
    with_changes.docs[0].changes.push(ByteBuf::from(vec![9]));
    assert!(matches!(
        decode_response(&encode_response(&with_changes), &limits),
        Err(Error::Cbor(_))
    ));
    let tight = Limits {
        max_state_bytes: 2,
        ..Limits::default()
    };
    assert!(matches!(
        decode_response(&encode_response(&answer), &tight),
        Err(Error::TooLarge { .. })
    ));

    // A device's request never carries state: refused in v2; v1 never had the field.
    let mut request = sample_request(1);
    request.docs[0].state = Some(ByteBuf::from(vec![1]));
    let v1_request = decode_request(&encode_request(&request), &limits).expect("v1 decodes");
    assert_eq!(v1_request.docs[0].state, None);
    request.v = 2;
    let refused = decode_request(&encode_request(&request), &limits);
    assert_eq!(refused, Err(Error::ServerOnly("a document's state")));
    assert_eq!(Error::ServerOnly("a document's state").code(), "malformed");
    request.docs[0].state = None;
    assert_eq!(decode_request(&encode_request(&request), &limits), Ok(request));
}

fn v3_answer() -> SyncResponse {
    SyncResponse {
        v: 3,
        totals: Some(Totals {
            digest: [7; 16],
            sites: vec![
                SiteTotals {
                    site: Uuid::new_v4(),
                    tallies: [("contacts".to_owned(), 41), ("kits".to_owned(), 0)].into(),
                },
                SiteTotals {
                    site: Uuid::new_v4(),
                    tallies: [("contacts".to_owned(), -3), ("kits".to_owned(), 1 << 40)].into(),
                },
            ],
        }),
        ..v2_answer(vec![1, 2, 3])
    }
}

/// `answer` encoded, with its `totals` replaced by `totals`.
fn with_totals(answer: &SyncResponse, totals: ciborium::Value) -> Vec<u8> {
    let value: ciborium::Value = ciborium::de::from_reader(&encode_response(answer)[..]).expect("cbor");
    let mut map = value.into_map().expect("map");
    map.retain(|(k, _)| k.as_text() != Some("totals"));
    map.push((ciborium::Value::Text("totals".into()), totals));
    let mut out = Vec::new();
    ciborium::ser::into_writer(&ciborium::Value::Map(map), &mut out).expect("encode");
    out
}

#[test]
fn only_a_v3_server_sends_totals_and_tally_documents() {
    let limits = Limits::default();
    let answer = v3_answer();
    assert_eq!(
        decode_response(&encode_response(&answer), &limits),
        Ok(answer.clone())
    );
    for older in [1, 2] {
        let mut old = answer.clone();
        old.v = older;
        old.docs.clear();
        assert!(matches!(
            decode_response(&encode_response(&old), &limits),
            Err(Error::Cbor(_))
        ));
        old.totals = None;
        old.docs
            .push(DocEntry::new(Uuid::new_v4(), DocKind::Tally, &[], Vec::new()));
        assert!(matches!(
            decode_response(&encode_response(&old), &limits),
            Err(Error::Cbor(_))
        ));
    }

    // Totals that are not a digest, metric names and a site id with one whole count per
    // metric are malformed, not a panic.
    use ciborium::Value;
    let int = |n: i64| Value::Integer(n.into());
    let totals = |digest: Value, metrics: Vec<&str>, sites: Vec<Value>| {
        Value::Map(vec![
            (Value::Text("digest".into()), digest),
            (
                Value::Text("metrics".into()),
                Value::Array(metrics.into_iter().map(|m| Value::Text(m.into())).collect()),
            ),
            (Value::Text("sites".into()), Value::Array(sites)),
        ])
    };
    let site = |id: Value, counts: Vec<Value>| Value::Array(vec![id, Value::Array(counts)]);
    let digest = Value::Bytes(vec![0; 16]);
    let id = Value::Bytes(vec![1; 16]);
    let good = totals(
        digest.clone(),
        vec!["contacts"],
        vec![site(id.clone(), vec![int(5)])],
    );
    let decoded = decode_response(&with_totals(&answer, good), &limits).expect("well formed");
    assert_eq!(
        decoded.totals.expect("totals").sites[0].tallies,
        [("contacts".to_owned(), 5)].into()
    );
    for bad in [
        Value::Text("many".into()),
        Value::Array(Vec::new()),
        Value::Map(Vec::new()),
        totals(Value::Bytes(vec![0; 15]), vec![], vec![]),
        totals(Value::Text("digest".into()), vec![], vec![]),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(Value::Bytes(vec![1; 15]), vec![int(1)])],
        ),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(Value::Text(Uuid::new_v4().to_string()), vec![int(1)])],
        ),
        totals(digest.clone(), vec!["contacts"], vec![site(id.clone(), vec![])]),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(id.clone(), vec![int(1), int(2)])],
        ),
        totals(
            digest.clone(),
            vec!["contacts", "contacts"],
            vec![site(id.clone(), vec![int(1), int(2)])],
        ),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(id.clone(), vec![Value::Float(1.5)])],
        ),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(id.clone(), vec![Value::Text("7".into())])],
        ),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![site(id.clone(), vec![Value::Integer(u64::MAX.into())])],
        ),
        totals(
            digest.clone(),
            vec!["contacts"],
            vec![Value::Array(vec![id.clone()])],
        ),
    ] {
        let bytes = with_totals(&answer, bad.clone());
        assert!(
            matches!(decode_response(&bytes, &limits), Err(Error::Cbor(_))),
            "{bad:?}"
        );
    }
    let many = totals(digest, vec![], vec![site(id, vec![]); 3]);
    let tight = Limits {
        max_docs: 2,
        ..Limits::default()
    };
    assert!(matches!(
        decode_response(&with_totals(&answer, many), &tight),
        Err(Error::TooLarge { .. })
    ));

    // A device's request never carries totals: refused from v3 on, ignored before, as v1
    // ignores every field it does not know.
    let request = SyncRequest {
        v: 3,
        ..sample_request(1)
    };
    let carrying = |request: &SyncRequest, totals: Value| {
        let value: Value = ciborium::de::from_reader(&encode_request(request)[..]).expect("cbor");
        let mut map = value.into_map().expect("map");
        map.push((Value::Text("totals".into()), totals));
        let mut out = Vec::new();
        ciborium::ser::into_writer(&Value::Map(map), &mut out).expect("encode");
        out
    };
    for totals in [
        Value::Array(Vec::new()),
        Value::Text("garbage".into()),
        Value::Null,
    ] {
        assert_eq!(
            decode_request(&carrying(&request, totals.clone()), &limits),
            Err(Error::ServerOnly("site totals")),
            "{totals:?}"
        );
    }
    assert_eq!(Error::ServerOnly("site totals").code(), "malformed");
    let v2 = SyncRequest { v: 2, ..request };
    assert_eq!(
        decode_request(&carrying(&v2, Value::Text("garbage".into())), &limits),
        Ok(v2)
    );
}

#[test]
fn a_v3_device_names_the_totals_it_holds_by_their_digest_only() {
    let limits = Limits::default();
    let request = SyncRequest {
        v: 3,
        totals_seen: Some(serde_bytes::ByteArray::new([9; 16])),
        ..sample_request(1)
    };
    assert_eq!(
        decode_request(&encode_request(&request), &limits),
        Ok(request.clone())
    );
    // Older protocols have no such field: ignored, as v1 ignores every field it does not know.
    for older in [1, 2] {
        let old = SyncRequest {
            v: older,
            ..request.clone()
        };
        let decoded = decode_request(&encode_request(&old), &limits).expect("decodes");
        assert_eq!(decoded.totals_seen, None);
    }
    // Anything but 16 bytes is malformed.
    use ciborium::Value;
    for bad in [
        Value::Bytes(vec![9; 15]),
        Value::Bytes(vec![9; 17]),
        Value::Text("9".repeat(16)),
        Value::Integer(9.into()),
    ] {
        let value: Value = ciborium::de::from_reader(&encode_request(&request)[..]).expect("cbor");
        let mut map = value.into_map().expect("map");
        map.retain(|(k, _)| k.as_text() != Some("totals_seen"));
        map.push((Value::Text("totals_seen".into()), bad.clone()));
        let mut out = Vec::new();
        ciborium::ser::into_writer(&Value::Map(map), &mut out).expect("encode");
        let refused = decode_request(&out, &limits);
        assert!(matches!(refused, Err(Error::Cbor(_))), "{bad:?}: {refused:?}");
        assert_eq!(refused.expect_err("refused").code(), "malformed");
    }
}

#[test]
fn totals_name_each_metric_once_per_reply_and_each_site_by_its_16_bytes() {
    // Six sites of five metrics, with counts of a busy campaign, as a v3 reply carries them:
    // the size every sync pays once, whatever the fleet.
    let metrics = sync_core::site::DEFAULT_METRICS;
    let totals = Totals {
        digest: [3; 16],
        sites: (0..6)
            .map(|_| SiteTotals {
                site: Uuid::new_v4(),
                tallies: metrics.iter().map(|m| (m.to_string(), 1_700)).collect(),
            })
            .collect(),
    };
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&totals, &mut bytes).expect("encode");
    assert!(bytes.len() <= 300, "{} bytes", bytes.len());
    assert_eq!(
        ciborium::de::from_reader::<Totals, _>(&bytes[..]).expect("decode"),
        totals
    );
}

#[test]
fn v1_and_v2_messages_carry_no_field_of_v3() {
    for v in [1, 2] {
        let request = SyncRequest {
            v,
            ..sample_request(1)
        };
        let answer = SyncResponse {
            v,
            ..v2_answer(vec![1])
        };
        for bytes in [encode_request(&request), encode_response(&answer)] {
            let value: ciborium::Value = ciborium::de::from_reader(&bytes[..]).expect("cbor");
            let keys: Vec<String> = value
                .into_map()
                .expect("map")
                .into_iter()
                .filter_map(|(k, _)| k.into_text().ok())
                .collect();
            assert!(
                !keys.iter().any(|k| k == "totals" || k == "totals_seen"),
                "{keys:?}"
            );
        }
    }
}

#[test]
fn v1_entries_are_encoded_without_a_state_field() {
    let request = sample_request(1);
    let value: ciborium::Value = ciborium::de::from_reader(&encode_request(&request)[..]).expect("cbor");
    let docs = value
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some("docs")))
        .and_then(|(_, v)| v.as_array())
        .expect("docs");
    let keys: Vec<&str> = docs[0]
        .as_map()
        .expect("entry")
        .iter()
        .filter_map(|(k, _)| k.as_text())
        .collect();
    assert_eq!(keys, ["id", "kind", "heads", "changes"]);
}

#[test]
fn changes_within_gives_up_once_the_saved_document_is_smaller() {
    let dataset = Uuid::new_v4();
    let mut doc = site::create(dataset, "dock", "Dock", site::DEFAULT_METRICS).expect("site");
    let mut middle = Vec::new();
    for i in 0..40 {
        site::increment(&mut doc, "contacts", 1).expect("bump");
        doc.commit();
        if i == 38 {
            middle = doc.get_heads();
        }
    }
    let saved = doc.save();
    let no_changes: &[Vec<u8>] = &[];
    let MergeOutcome::Merged(mut merged) = merge_incoming(Some(&saved), no_changes).expect("merge") else {
        panic!("complete")
    };
    let everything = merged.changes_missing_from(&[]);
    let all_bytes: usize = everything.iter().map(Vec::len).sum();
    assert!(
        saved.len() < all_bytes,
        "{} saved against {all_bytes}",
        saved.len()
    );
    let all = merged.heads();
    assert_eq!(merged.changes_within(&[], &all, saved.len()), None);
    assert_eq!(
        merged.changes_within(&[], &all, all_bytes),
        Some(everything.clone())
    );
    let last = merged
        .changes_within(&middle, &all, saved.len())
        .expect("one change is smaller");
    assert_eq!(last, merged.changes_missing_from(&middle));
    assert_eq!(last.len(), 1);

    // Up to an earlier state only: what the device lacks of it, and none of what came after.
    let upto = merged.changes_within(&[], &middle, usize::MAX).expect("no limit");
    assert_eq!(upto.len(), everything.len() - 1);
    assert_eq!(upto[..], everything[..everything.len() - 1]);
    assert_eq!(merged.changes_within(&middle, &middle, 0), Some(Vec::new()));
}

/// The metadata check before building changes only rules out what truly does not fit: around
/// the exact size, and for changes with many dependencies (concurrent bumps, merged).
#[test]
fn changes_within_is_exact_at_the_limit() {
    let dataset = Uuid::new_v4();
    let mut origin = site::create(dataset, "dock", "Dock", site::DEFAULT_METRICS).expect("site");
    let saved = origin.save();
    let mut phones: Vec<_> = (0..6).map(|_| load_document(&saved).expect("load")).collect();
    for round in 0..4 {
        for phone in &mut phones {
            site::increment(phone, "contacts", round + 1).expect("bump");
            phone.commit();
        }
        for i in 0..phones.len() {
            let (before, after) = phones.split_at_mut(i);
            let (phone, after) = after.split_first_mut().expect("phone");
            for other in before.iter_mut().chain(after.iter_mut()) {
                phone.merge(other).expect("merge");
            }
        }
    }
    let whole = phones[0].save();
    let no_changes: &[Vec<u8>] = &[];
    let MergeOutcome::Merged(from_bytes) = merge_incoming(Some(&whole), no_changes).expect("merge") else {
        panic!("complete")
    };
    // The same state kept loaded, its history summed as it grew: half loaded, half merged in,
    // some changes sent twice.
    let half = phones[0].get_changes(&[]);
    let (first, second) = half.split_at(half.len() / 2);
    let bytes = |changes: &[automerge::Change]| -> Vec<Vec<u8>> {
        changes.iter().map(|c| c.raw_bytes().to_vec()).collect()
    };
    let MergeOutcome::Merged(start) = merge_incoming(None, &bytes(first)).expect("merge") else {
        panic!("complete")
    };
    let mut again = bytes(second);
    again.extend(bytes(&second[..2]));
    let MergeOutcome::Merged(loaded) = merge_into(start.into_loaded(), &again).expect("merge") else {
        panic!("complete")
    };
    for mut merged in [from_bytes, loaded] {
        let all = merged.heads();
        let one_phone = phones[3].get_heads();
        for device_heads in [Vec::new(), origin.get_heads(), one_phone, all.clone()] {
            let exact: usize = merged
                .changes_missing_from(&device_heads)
                .iter()
                .map(Vec::len)
                .sum();
            for max in [
                0,
                exact / 2,
                exact.saturating_sub(1),
                exact,
                exact + 1,
                10 * exact,
            ] {
                assert_eq!(
                    merged.changes_within(&device_heads, &all, max).is_some(),
                    exact <= max,
                    "{exact} bytes of changes, limit {max}"
                );
            }
        }
    }
}

/// A response's first change, as a device sends it.
fn first_change() -> automerge::Change {
    let mut doc = response::create(Uuid::new_v4(), form(), &new_response_edit(1)).expect("response");
    doc.get_changes(&[]).into_iter().next().expect("a change")
}

/// The attack, straight on Automerge: a document holding `change` saves to bytes that do not
/// load again.
fn saved_does_not_load(change: automerge::Change) -> bool {
    std::panic::catch_unwind(move || {
        let mut doc = automerge::AutoCommit::new();
        doc.apply_changes([change]).is_ok() && automerge::AutoCommit::load(&doc.save()).is_err()
    })
    .unwrap_or(false)
}

fn merged_and_checked(change: &[u8]) -> sync_core::Result<()> {
    match merge_incoming(None, &[change])? {
        MergeOutcome::Merged(mut merged) => merged.validate(DocKind::Response, Some(form())).map(drop),
        MergeOutcome::NeedAll => panic!("a first change needs nothing"),
    }
}

/// Automerge 0.12 applies an overwrite of a list's head (an insert with its insert bit
/// cleared), then saves the document to bytes it cannot load again ("missing ops").
#[test]
fn an_overwrite_of_a_lists_head_is_refused() {
    let mut expanded = first_change().decode();
    let op = expanded
        .operations
        .iter_mut()
        .find(|op| op.insert && op.key == automerge::legacy::Key::Seq(automerge::legacy::ElementId::Head))
        .expect("the multiple choice answer inserts its first option at the head");
    op.insert = false;
    let forged = automerge::Change::from(expanded);
    assert!(
        saved_does_not_load(forged.clone()),
        "the attack works on Automerge itself"
    );
    let err = merged_and_checked(forged.raw_bytes()).expect_err("refused");
    assert_eq!(err.code(), "malformed", "{err}");
}

/// A change whose bytes decode to the same operations as a well-formed change but are not
/// Automerge's encoding of them gets another hash; a saved document re-encodes its changes, so
/// it would not load again ("mismatching heads").
#[test]
fn a_change_not_in_automerges_own_encoding_is_refused() {
    let change = first_change();
    let ops = change.decode();
    let bytes = change.raw_bytes().to_vec();
    let forged = (0..bytes.len())
        .flat_map(|i| [bytes[i].wrapping_add(1), bytes[i].wrapping_sub(1)].map(|value| (i, value)))
        .find_map(|(i, value)| {
            let mut forged = bytes.clone();
            forged[i] = value;
            let parsed = automerge::Change::from_bytes(forged.clone()).ok()?;
            // Decoding some changed bytes panics inside Automerge; those are not this attack.
            let same = std::panic::catch_unwind(|| parsed.decode().operations == ops.operations);
            (same.unwrap_or(false) && saved_does_not_load(parsed)).then_some(forged)
        })
        .expect(
            "some byte of the change can be changed without changing its operations, and breaks the document",
        );
    assert!(merged_and_checked(&bytes).is_ok(), "the change itself merges");
    let err = merged_and_checked(&forged).expect_err("refused");
    assert_eq!(err.code(), "malformed", "{err}");
}
