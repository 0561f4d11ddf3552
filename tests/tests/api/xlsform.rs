//! XLSForm workbooks posted to `/v1/datasets/{id}/forms` and given to `survey-server form
//! import`: an outreach form written in a spreadsheet (and re-saved by LibreOffice) imports in
//! one call, reaches a phone, has its skip logic kept by the server, and aggregates; forms that
//! would identify respondents are refused with their rows; hostile workbooks get a 4xx.

use std::io::Write as _;

use reqwest::Method;
use serde_json::{Value, json};
use sync_core::{Answer, Day, DocEntry, DocKind, Form, ResponseEdit, response};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Reply, TestServer};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

on_both_backends!(
    an_outreach_workbook_imports_syncs_keeps_its_skip_logic_and_aggregates,
    workbooks_that_would_identify_respondents_are_refused_with_their_rows,
    hostile_workbooks_are_refused_with_4xx,
    the_command_line_imports_a_workbook_and_lists_a_refusal,
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/xlsform/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn post_workbook(api: &Api, dataset: Uuid, token: &str, query: &str, bytes: Vec<u8>) -> Reply {
    api.send(
        Method::POST,
        &format!("/v1/datasets/{dataset}/forms{query}"),
        Some(token),
        Some(XLSX),
        bytes,
    )
    .await
    .expect("POST workbook")
}

fn edit(answers: Vec<(&str, Answer)>) -> ResponseEdit {
    ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(Day::parse("2026-11-20").expect("day")),
        answers: answers.into_iter().map(|(q, a)| (q.to_owned(), a)).collect(),
        cleared: Vec::new(),
        submit: true,
    }
}

fn yes_no(answer: &str) -> Answer {
    Answer::Single(answer.into())
}

async fn an_outreach_workbook_imports_syncs_keeps_its_skip_logic_and_aggregates(backend: Backend) {
    let server = TestServer::start_suppressing_only(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;

    let reply = post_workbook(api, dataset, &admin, "", fixture("outreach.xlsx")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["form"]["id"], "outreach");
    assert_eq!(body["form"]["sections"][1]["translations"]["es"], "Trabajo");
    let dropped: Vec<&str> = body["report"]["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .map(|d| d["type"].as_str().expect("type"))
        .collect();
    assert_eq!(dropped, ["start", "deviceid", "today"]);
    // The copy LibreOffice saved is the same form: published again as the next version.
    let resaved = post_workbook(api, dataset, &admin, "", fixture("outreach-libreoffice.xlsx")).await;
    assert_eq!(resaved.status, 409, "the same version again: {}", resaved.text());
    let listed = api
        .get(&format!("/v1/datasets/{dataset}/forms"), Some(&admin))
        .await
        .json();
    assert_eq!(listed[0], body["form"]);

    let device = &mut devices[0];
    device.sync_fully(api).await;
    let form = device
        .engine
        .form("outreach", None)
        .expect("the phone has the form");
    assert_eq!(
        form.question("free_to_leave").expect("likert").kind.type_name(),
        "likert"
    );
    assert_eq!(form.title_translations.len(), 0);

    // Twelve worked abroad, twelve did not; one of the latter also answers a question the
    // skip logic hides, which the engine clears before it is sent.
    for i in 0..24 {
        let abroad = i < 12;
        let mut answers = vec![
            ("agree", yes_no("yes")),
            ("worked_abroad", yes_no(if abroad { "yes" } else { "no" })),
            ("wants_help", yes_no("no")),
        ];
        if abroad {
            answers.push(("months_abroad", Answer::Integer(6)));
            answers.push(("recruited_by", Answer::Multi(vec!["agency".into()])));
            answers.push(("free_to_leave", Answer::Likert(1 + i % 2)));
            answers.push(("weeks_unpaid", Answer::Integer(3)));
        } else if i == 12 {
            answers.push(("months_abroad", Answer::Integer(6)));
        }
        let id = device
            .engine
            .create_response("outreach", &edit(answers))
            .expect("response");
        let view = device.engine.response(id).expect("view");
        assert_eq!(view.answers.contains_key("months_abroad"), abroad, "{i}");
    }
    device.sync_fully(api).await;
    assert!(
        device.engine.rejections().is_empty(),
        "{:?}",
        device.engine.rejections()
    );

    // A response forged past the engine, answering a question its rule hides, is refused.
    let mut lax: Value = body["form"].clone();
    lax["questions"][3]["relevant"] = Value::Null;
    assert_eq!(lax["questions"][3]["id"], "months_abroad");
    let lax = Form::from_value(lax).expect("lax form");
    let forged = edit(vec![
        ("agree", yes_no("yes")),
        ("worked_abroad", yes_no("no")),
        ("months_abroad", Answer::Integer(7)),
        ("wants_help", yes_no("no")),
    ]);
    let mut doc = response::create(dataset, &lax, &forged).expect("forged");
    let doc_id = Uuid::new_v4();
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    let entry = DocEntry::new(doc_id, DocKind::Response, &doc.get_heads(), changes);
    let answer = device.send_entries(api, 1, vec![entry]).await;
    let refused = answer.rejected.iter().find(|r| r.id == doc_id).expect("refused");
    assert_eq!(refused.code, "irrelevant_answer");

    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let counts = |by: &'static str| {
        let path = format!("/v1/datasets/{dataset}/aggregates?form=outreach&by={by}");
        let analyst = analyst.clone();
        async move {
            let reply = api.get(&path, Some(&analyst)).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let cells = reply.json()["cells"].clone();
            let mut counts: Vec<(String, u64)> = cells
                .as_array()
                .expect("cells")
                .iter()
                .map(|c| {
                    (
                        c["key"][by].as_str().unwrap_or("").to_owned(),
                        c["n"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            counts.sort();
            counts
        }
    };
    let abroad = counts("worked_abroad").await;
    assert!(abroad.contains(&("yes".into(), 12)), "{abroad:?}");
    assert!(abroad.contains(&("no".into(), 12)), "{abroad:?}");
}

async fn workbooks_that_would_identify_respondents_are_refused_with_their_rows(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "refusals", "live").await;

    let reply = post_workbook(
        api,
        dataset,
        &admin,
        "?areas=north&form_id=family",
        fixture("pyxform/group.xlsx"),
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "identifying_question")
    );
    let body = reply.json();
    let rows: Vec<(&str, u64)> = body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["sheet"].as_str().expect("sheet"),
                p["row"].as_u64().expect("row"),
            )
        })
        .collect();
    assert_eq!(rows, [("survey", 2), ("survey", 4)], "{body}");
    assert!(
        body["message"].as_str().expect("message").contains("row 2"),
        "{body}"
    );

    let reply = post_workbook(
        api,
        dataset,
        &admin,
        "?areas=north&form_id=ages",
        fixture("pyxform/text_and_integer.xlsx"),
    )
    .await;
    assert_eq!(reply.json()["problems"][0]["row"], 2, "{}", reply.text());

    let reply = post_workbook(
        api,
        dataset,
        &admin,
        "?areas=north&form_id=colours",
        fixture("pyxform/or_other.xlsx"),
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "unsupported_type")
    );
    assert_eq!(
        reply.json()["problems"],
        json!([
            { "code": "unsupported_type", "sheet": "survey", "row": 2, "column": "type",
              "message": "type \"select_one colors or_other\": \"other, specify\" choices are not supported" },
            { "code": "unsupported_column", "sheet": "survey", "row": 3, "column": "choice_filter",
              "message": "choice filters (cascading selects) are not supported; the form cannot keep their meaning" }
        ])
    );
    let listed = api
        .get(&format!("/v1/datasets/{dataset}/forms"), Some(&admin))
        .await;
    assert_eq!(listed.json(), json!([]), "nothing refused was stored");

    // The pyxform form that asks nothing identifying imports, with areas from the request.
    let reply = post_workbook(
        api,
        dataset,
        &admin,
        "?areas=north,south&form_id=good_day",
        fixture("pyxform/yes_or_no_question.xlsx"),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["form"]["areas"], json!(["north", "south"]));

    // Importing is publishing: the same roles.
    for role in ["analyst", "trainer"] {
        let token = api.token(&admin, role, Some(dataset)).await;
        let reply = post_workbook(api, dataset, &token, "", fixture("outreach.xlsx")).await;
        assert_eq!(reply.status, 403, "{role}");
    }
}

/// A sheet of 256 MiB of spaces, deflated to a quarter of a MiB (the unit tests inflate a
/// gigabyte and watch memory; here it is the answer that counts).
fn bomb() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", options)
        .expect("start");
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..256 {
        zip.write_all(&spaces).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

async fn hostile_workbooks_are_refused_with_4xx(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "hostile", "live").await;
    let mut truncated = fixture("outreach.xlsx");
    truncated.truncate(3000);
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "not a zip",
            "",
            b"type,name,label\ntext,a,A".to_vec(),
            400,
            "not_xlsx",
        ),
        ("empty", "", Vec::new(), 400, "not_xlsx"),
        ("truncated", "", truncated, 400, "not_xlsx"),
        ("bomb", "", bomb(), 413, "too_large"),
        ("huge", "", vec![0; 3 << 20], 413, "too_large"),
        (
            "bad query",
            "?areas=north&extra=1",
            fixture("outreach.xlsx"),
            400,
            "bad_query",
        ),
    ];
    for (what, query, bytes, status, code) in cases {
        let reply = post_workbook(api, dataset, &admin, query, bytes).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (status, code),
            "{what}: {}",
            reply.text()
        );
    }
    let reply = api
        .send(
            Method::POST,
            &format!("/v1/datasets/{dataset}/forms"),
            Some(&admin),
            Some("text/csv"),
            b"type,name,label".to_vec(),
        )
        .await
        .expect("POST");
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (415, "unsupported_media_type")
    );
    // JSON is still JSON, and the server is still up.
    let reply = api
        .post_json(
            &format!("/v1/datasets/{dataset}/forms"),
            Some(&admin),
            &json!({ "id": 1 }),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(api.get("/healthz", None).await.status, 200);
}

async fn the_command_line_imports_a_workbook_and_lists_a_refusal(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let dataset = server.api.create_dataset(&admin, "cli", "live").await;
    let url = server.db.url.clone();
    let path = |name: &str| format!("{}/fixtures/xlsform/{name}", env!("CARGO_MANIFEST_DIR"));
    let id = dataset.to_string();

    let (ok, out, err) = cli(&[
        "form",
        "import",
        "--dataset",
        &id,
        &path("outreach-libreoffice.xlsx"),
        "--database",
        &url,
    ])
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("published form outreach version 2026120601"),
        "{out}"
    );
    assert!(out.contains("dropped survey row 3: deviceid"), "{out}");

    let bad = path("pyxform/group.xlsx");
    let (ok, _, err) = cli(&[
        "form",
        "import",
        "--dataset",
        &id,
        "--areas",
        "north",
        &bad,
        "--database",
        &url,
    ])
    .await;
    assert!(!ok);
    assert!(
        err.contains("survey row 2") && err.contains("survey row 4 column type"),
        "{err}"
    );

    let listed = server
        .api
        .get(&format!("/v1/datasets/{dataset}/forms"), Some(&admin))
        .await
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

/// Runs `survey-server` with `args` off the test's runtime.
async fn cli(args: &[&str]) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::process::run(&args)
    })
    .await
    .expect("run")
}
