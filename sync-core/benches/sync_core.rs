//! Micro-benchmarks of the hot paths: a device filling a response, the server merge step,
//! counter merges, and protocol encoding. Run with `cargo bench -p sync-core`.

use std::hint::black_box;

use automerge::ActorId;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use sync_core::{
    Answer, Day, DocEntry, DocKind, Form, Limits, MergeOutcome, ResponseEdit, SyncRequest, decode_request,
    encode_request, merge_incoming, response, site,
};
use uuid::Uuid;

/// The 30-question shape of the load test: 20 likert, 5 single, 3 multi, 1 integer, 1 text.
fn form30() -> Form {
    let mut questions = Vec::new();
    for i in 0..20 {
        questions.push(json!({ "id": format!("l{i}"), "type": "likert", "label": format!("Item {i}"), "scale": 5, "reverse": i % 4 == 0 }));
    }
    for i in 0..5 {
        questions.push(json!({ "id": format!("s{i}"), "type": "single", "label": format!("Single {i}"), "options": ["a", "b", "c", "d"] }));
    }
    for i in 0..3 {
        questions.push(json!({ "id": format!("m{i}"), "type": "multi", "label": format!("Multi {i}"), "options": ["ngo", "police", "clinic", "family"] }));
    }
    questions.push(json!({ "id": "count", "type": "integer", "label": "People met", "min": 0, "max": 500 }));
    questions.push(json!({ "id": "notes", "type": "text", "label": "Notes", "max_len": 200 }));
    let items: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
    Form::from_value(json!({
        "id": "load", "version": 1, "title": "Load test", "areas": ["north", "south", "east"],
        "questions": questions, "scores": [{ "id": "index", "label": "Index", "items": items, "method": "mean" }]
    }))
    .expect("benchmark form is valid")
}

fn edit30(seed: usize) -> ResponseEdit {
    let mut answers: Vec<(String, Answer)> = (0..20)
        .map(|i| (format!("l{i}"), Answer::Likert(((seed + i) % 5 + 1) as i64)))
        .collect();
    answers.extend((0..5).map(|i| {
        (
            format!("s{i}"),
            Answer::Single(["a", "b", "c", "d"][(seed + i) % 4].into()),
        )
    }));
    answers.extend((0..3).map(|i| {
        (
            format!("m{i}"),
            Answer::Multi(vec!["ngo".into(), "clinic".into()]),
        )
    }));
    answers.push(("count".into(), Answer::Integer((seed % 40) as i64)));
    answers.push((
        "notes".into(),
        Answer::Text("gave 2 kits and a hotline card".into()),
    ));
    ResponseEdit {
        area: Some("north".into()),
        collected_on: Day::parse("2026-11-20").ok(),
        answers,
        cleared: Vec::new(),
        submit: true,
    }
}

fn change_bytes(doc: &mut automerge::AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect()
}

fn benches(c: &mut Criterion) {
    let form = form30();
    let dataset = Uuid::new_v4();
    let mut sample = response::create(dataset, &form, &edit30(1)).expect("response");
    let changes = change_bytes(&mut sample);
    let wire: usize = changes.iter().map(Vec::len).sum();
    eprintln!(
        "one 30-question response: {} change(s), {wire} bytes of changes, {} bytes saved",
        changes.len(),
        sample.save().len()
    );

    c.bench_function("create and fill a 30-question response", |b| {
        b.iter(|| black_box(response::create(dataset, &form, &edit30(3)).expect("response")))
    });

    c.bench_function("merge step for one response", |b| {
        b.iter(|| {
            let MergeOutcome::Merged(mut merged) = merge_incoming(None, &changes).expect("merge") else {
                panic!("need all")
            };
            black_box(merged.validate(DocKind::Response, Some(&form)).expect("valid"));
            black_box((merged.save(), merged.heads(), merged.changes_missing_from(&[])));
        })
    });

    let mut origin =
        site::create(dataset, "market-2", "Central market", site::DEFAULT_METRICS).expect("site");
    let stored = origin.save();
    let increments: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            let mut phone = origin.fork().with_actor(ActorId::random());
            site::increment(&mut phone, site::DEFAULT_METRICS[i % 5], 1).expect("bump");
            phone
                .get_last_local_change()
                .expect("change")
                .bytes()
                .into_owned()
        })
        .collect();
    let mut group = c.benchmark_group("counters");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("merge 1,000 concurrent increments", |b| {
        b.iter(|| {
            let MergeOutcome::Merged(mut merged) = merge_incoming(Some(&stored), &increments).expect("merge")
            else {
                panic!("need all")
            };
            black_box(merged.validate(DocKind::Site, None).expect("valid"));
        })
    });
    group.finish();

    let request = SyncRequest {
        v: 1,
        dataset,
        epoch: 1,
        docs: (0..100)
            .map(|i| {
                let mut doc = response::create(dataset, &form, &edit30(i)).expect("response");
                DocEntry::new(
                    Uuid::new_v4(),
                    DocKind::Response,
                    &doc.get_heads(),
                    change_bytes(&mut doc),
                )
            })
            .collect(),
        totals_seen: None,
    };
    let encoded = encode_request(&request);
    eprintln!("a 100-response request: {} bytes", encoded.len());
    let mut group = c.benchmark_group("protocol");
    group.throughput(Throughput::Elements(100));
    group.bench_function("encode a 100-document request", |b| {
        b.iter(|| black_box(encode_request(&request)))
    });
    group.bench_function("decode a 100-document request", |b| {
        b.iter_batched(
            || encoded.clone(),
            |bytes| black_box(decode_request(&bytes, &Limits::default()).expect("decode")),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(sync_core, benches);
criterion_main!(sync_core);
