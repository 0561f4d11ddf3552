use std::io::Write as _;

use sync_core::{Choice, QuestionKind, Translation};
use zip::write::SimpleFileOptions;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/xlsform");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn defaults() -> Defaults {
    Defaults {
        form_id: Some("imported".into()),
        areas: vec!["north".into()],
    }
}

/// A cell of a hand-made sheet: text, a number, or a formula.
enum C<'a> {
    T(&'a str),
    N(f64),
    F(&'a str),
}

/// A minimal .xlsx with inline strings, as a few writers make them.
fn workbook(sheets: &[(&str, Vec<Vec<C<'_>>>)]) -> Vec<u8> {
    let mut sheet_xml = Vec::new();
    for (_, rows) in sheets {
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (r, row) in rows.iter().enumerate() {
            xml.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{}", (b'A' + c as u8) as char, r + 1);
                xml.push_str(&match cell {
                    C::T("") => continue,
                    C::T(text) => format!(
                        r#"<c r="{at}" t="inlineStr"><is><t>{}</t></is></c>"#,
                        escape(text)
                    ),
                    C::N(n) => format!(r#"<c r="{at}"><v>{n}</v></c>"#),
                    C::F(f) => format!(r#"<c r="{at}"><f>{}</f></c>"#, escape(f)),
                });
            }
            xml.push_str("</row>");
        }
        xml.push_str("</sheetData></worksheet>");
        sheet_xml.push(xml);
    }
    let names: Vec<&str> = sheets.iter().map(|(n, _)| *n).collect();
    zip_of(&names, &sheet_xml)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The package around worksheets' XML.
fn zip_of(names: &[&str], sheets: &[String]) -> Vec<u8> {
    let mut content_types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    let mut workbook = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (i, name) in names.iter().enumerate() {
        let n = i + 1;
        content_types.push_str(&format!(r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
        workbook.push_str(&format!(r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#));
        rels.push_str(&format!(r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#));
    }
    content_types.push_str("</Types>");
    workbook.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    let package = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    let mut files = vec![
        ("[Content_Types].xml".to_owned(), content_types),
        ("_rels/.rels".to_owned(), package.to_owned()),
        ("xl/workbook.xml".to_owned(), workbook),
        ("xl/_rels/workbook.xml.rels".to_owned(), rels),
    ];
    for (i, xml) in sheets.iter().enumerate() {
        files.push((format!("xl/worksheets/sheet{}.xml", i + 1), xml.clone()));
    }
    for (path, text) in files {
        zip.start_file(path, options).expect("start");
        zip.write_all(text.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

fn t<'a>(row: &[&'a str]) -> Vec<C<'a>> {
    row.iter().map(|s| C::T(s)).collect()
}

fn survey(rows: &[&[&str]]) -> Vec<u8> {
    let rows = rows.iter().map(|r| t(r)).collect();
    workbook(&[("survey", rows)])
}

fn refused(bytes: &[u8]) -> Vec<Problem> {
    match convert(bytes, &defaults()) {
        Err(ImportError::Refused(problems)) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn at(problems: &[Problem]) -> Vec<(&'static str, Option<u32>, Option<&str>)> {
    problems
        .iter()
        .map(|p| (p.code, p.row, p.column.as_deref()))
        .collect()
}

#[test]
fn the_outreach_form_converts_with_sections_rules_languages_and_a_likert_item() {
    for file in ["outreach.xlsx", "outreach-libreoffice.xlsx"] {
        let imported =
            convert(&fixture(file), &Defaults::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let form = &imported.form;
        assert_eq!(
            (form.id.as_str(), form.version),
            ("outreach", 2026120601),
            "{file}"
        );
        assert_eq!(form.areas, ["north", "south"]);
        assert_eq!(form.default_language.as_deref(), Some("en"));
        let sections: Vec<&str> = form.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(sections, ["consent", "work", "support"]);
        assert_eq!(form.sections[1].translations["es"], "Trabajo");
        assert_eq!(form.sections[1].relevant.as_deref(), Some("${agree} = 'yes'"));
        let q = |id: &str| form.question(id).expect(id);
        assert_eq!(q("consent_note").kind, QuestionKind::Note);
        assert!(q("agree").required);
        assert_eq!(
            q("months_abroad").kind,
            QuestionKind::Integer { min: 1, max: 120 }
        );
        assert_eq!(q("months_abroad").section.as_deref(), Some("work"));
        let QuestionKind::Likert { scale, labels, .. } = &q("free_to_leave").kind else {
            panic!("free_to_leave is read as likert: {:?}", q("free_to_leave").kind);
        };
        assert_eq!((*scale, labels[0].as_str()), (5, "Strongly disagree"));
        let Translation::Texts { points, label, .. } = &q("free_to_leave").translations["es"] else {
            panic!("texts");
        };
        assert_eq!(
            (label.as_str(), points[4].as_str()),
            ("Era libre de dejar el trabajo.", "Muy de acuerdo")
        );
        // The likert item's rule compares it with numbers, as its answers are.
        assert_eq!(
            q("weeks_unpaid").relevant.as_deref(),
            Some("selected(${recruited_by}, 'agency') and (${free_to_leave} = 1 or ${free_to_leave} = 2)")
        );
        let Translation::Texts { options, hint, .. } = &q("recruited_by").translations["es"] else {
            panic!("texts");
        };
        assert_eq!(options["relative"], "Un familiar o amigo");
        assert_eq!(hint.as_deref(), Some("Elija todas las que correspondan."));
        let QuestionKind::Multi { options } = &q("recruited_by").kind else {
            panic!("multi")
        };
        assert_eq!(
            options[0],
            Choice::Labelled {
                id: "agency".into(),
                label: "An agency".into()
            }
        );
        let dropped: Vec<(u32, &str)> = imported
            .report
            .dropped
            .iter()
            .map(|d| (d.row, d.kind.as_str()))
            .collect();
        assert_eq!(dropped, [(2, "start"), (3, "deviceid"), (20, "today")]);
        assert!(form.question("started").is_err());
    }
}

#[test]
fn pyxform_examples_import_or_are_refused_for_what_they_ask() {
    let yes_no = convert(&fixture("pyxform/yes_or_no_question.xlsx"), &defaults()).expect("yes or no");
    let q = &yes_no.form.questions[0];
    assert_eq!(
        (q.id.as_str(), q.label.as_str()),
        ("good_day", "have you had a good day today?")
    );
    assert_eq!(yes_no.form.default_language.as_deref(), Some("en"));
    assert!(convert(&fixture("pyxform/extra_sheet_names.xlsx"), &defaults()).is_ok());

    let group = refused(&fixture("pyxform/group.xlsx"));
    assert_eq!(
        at(&group)[..2],
        [
            ("identifying_question", Some(2), None),
            ("identifying_question", Some(4), Some("type")),
        ],
        "{group:?}"
    );
    let name = refused(&fixture("pyxform/text_and_integer.xlsx"));
    assert_eq!(at(&name), [("identifying_question", Some(2), None)], "{name:?}");

    let external = refused(&fixture("pyxform/case_insensitivity.xlsx"));
    assert!(
        at(&external).contains(&("unsupported_column", Some(3), Some("choice_filter"))),
        "{external:?}"
    );
    assert!(at(&external).contains(&("unsupported_type", Some(3), Some("type"))));
    assert!(at(&external).contains(&("unsupported_type", Some(4), Some("type"))));
    let loops = refused(&fixture("pyxform/loop.xlsx"));
    assert!(
        at(&loops).contains(&("unsupported_type", Some(2), Some("type"))),
        "{loops:?}"
    );
    assert!(
        at(&loops).contains(&("unsupported_type", Some(3), Some("type"))),
        "{loops:?}"
    );
    let other = refused(&fixture("pyxform/or_other.xlsx"));
    assert_eq!(
        at(&other),
        [
            ("unsupported_type", Some(2), Some("type")),
            ("unsupported_column", Some(3), Some("choice_filter"))
        ]
    );
}

#[test]
fn a_refusal_lists_every_problem_identifying_ones_first() {
    let problems = refused(&fixture("pyxform/flat_xlsform_test.xlsx"));
    let first_other = problems
        .iter()
        .position(|p| p.code != "identifying_question")
        .expect("other problems");
    assert!(first_other >= 2, "{problems:?}");
    assert!(
        problems[first_other..]
            .iter()
            .all(|p| p.code != "identifying_question")
    );
    assert!(problems.len() > 10, "{problems:?}");
    assert!(problems.iter().all(|p| p.row.is_some() || p.sheet != "survey"));
    let error = ImportError::Refused(problems);
    assert_eq!(error.code(), "identifying_question");
}

#[test]
fn location_media_and_contact_types_are_refused_by_row() {
    let mut rows: Vec<Vec<&str>> = vec![
        vec!["type", "name", "label"],
        vec!["integer", "visits", "Visits this month"],
    ];
    for kind in [
        "geopoint",
        "geotrace",
        "geoshape",
        "image",
        "audio",
        "video",
        "file",
        "barcode",
        "phone number",
    ] {
        rows.push(vec![kind, "x", "Something"]);
    }
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let problems = refused(&survey(&rows));
    let rows: Vec<_> = problems.iter().map(|p| (p.code, p.row)).collect();
    let expected: Vec<_> = (3..=11).map(|r| ("identifying_question", Some(r))).collect();
    assert_eq!(rows, expected);

    // Whatever the type, a row asking for contact details is refused for that first.
    let problems = refused(&survey(&[
        &["type", "name", "label", "label::Español (es)"],
        &["decimal", "reach", "Your phone number?"],
        &["select_one nowhere", "again", "Again", "Su número de teléfono"],
        &["calculate", "respondent_name", ""],
    ]));
    assert_eq!(
        at(&problems),
        [
            ("identifying_question", Some(2), None),
            ("identifying_question", Some(3), None),
            ("identifying_question", Some(4), None),
        ]
    );
}

#[test]
fn metadata_is_dropped_and_reported() {
    let mut rows: Vec<&[&str]> = vec![
        &["type", "name", "label"],
        &["text", "place_kind", "Kind of place"],
    ];
    let metadata = [
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "username",
        "phonenumber",
        "email",
        "audit",
    ];
    let made: Vec<[&str; 2]> = metadata.iter().map(|m| [*m, "meta"]).collect();
    rows.extend(made.iter().map(|r| r.as_slice()));
    // The same name on every metadata row: dropped rows take no name.
    let imported = convert(&survey(&rows), &defaults()).expect("imports");
    assert_eq!(imported.form.questions.len(), 1);
    let dropped: Vec<&str> = imported.report.dropped.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(dropped, metadata);
}

#[test]
fn columns_and_sheets_are_case_insensitive_and_spellings_vary() {
    let bytes = workbook(&[
        (
            "SURVEY",
            vec![
                t(&[
                    "TYPE",
                    "Name",
                    "Label::Español (ES)",
                    "LABEL::English (en)",
                    "Required",
                ]),
                t(&["Begin Group", "intro", "Inicio", "Start"]),
                t(&[
                    "SELECT ONE FROM yn",
                    "met_before",
                    "¿Nos vimos antes?",
                    "Have we met before?",
                    "TRUE",
                ]),
                t(&["select all that apply from yn", "both", "¿Ambas?", "Both?"]),
                t(&["End Group"]),
            ],
        ),
        (
            "Choices",
            vec![
                t(&["List Name", "NAME", "label::español (es)", "label::english (en)"]),
                t(&["yn", "yes", "Sí", "Yes"]),
                t(&["yn", "no", "No", "No"]),
            ],
        ),
        (
            "Settings",
            vec![t(&["Form_ID", "DEFAULT_LANGUAGE"]), t(&["met", "en"])],
        ),
    ]);
    let form = convert(&bytes, &defaults()).expect("imports").form;
    assert_eq!(form.id, "met");
    let q = form.question("met_before").expect("question");
    assert!(q.required);
    assert_eq!(q.label, "Have we met before?");
    assert!(
        matches!(&q.translations["es"], Translation::Texts { label, .. } if label == "¿Nos vimos antes?")
    );
    assert!(matches!(
        form.question("both").expect("both").kind,
        QuestionKind::Multi { .. }
    ));
    assert_eq!(form.sections[0].translations["es"], "Inicio");
}

#[test]
fn numbers_typed_as_numbers_read_as_typed() {
    let bytes = workbook(&[
        (
            "survey",
            vec![
                t(&["type", "name", "label", "relevant"]),
                t(&["select_one rate", "rating", "How was it?"]),
                t(&["select_one codes", "code", "Which code?", "${rating} = '4'"]),
            ],
        ),
        (
            "choices",
            vec![
                t(&["list_name", "name", "label"]),
                vec![C::T("rate"), C::N(1.0), C::T("Bad")],
                vec![C::T("rate"), C::N(2.0), C::T("Poor")],
                vec![C::T("rate"), C::N(3.0), C::T("Fair")],
                vec![C::T("rate"), C::N(4.0), C::T("Good")],
                vec![C::T("codes"), C::N(10.0), C::N(10.5)],
                vec![C::T("codes"), C::N(20.0), C::N(20.0)],
            ],
        ),
        ("settings", vec![t(&["version"]), vec![C::N(3.0)]]),
    ]);
    let imported = convert(&bytes, &defaults()).expect("imports");
    assert_eq!(imported.form.version, 3);
    assert!(matches!(
        imported.form.questions[0].kind,
        QuestionKind::Likert { scale: 4, .. }
    ));
    assert_eq!(
        imported.form.questions[1].relevant.as_deref(),
        Some("${rating} = 4")
    );
    let QuestionKind::Single { options } = &imported.form.questions[1].kind else {
        panic!("single");
    };
    assert_eq!(
        options[0],
        Choice::Labelled {
            id: "10".into(),
            label: "10.5".into()
        }
    );
}

#[test]
fn rules_constraints_and_groups_are_checked_with_their_rows() {
    let problems = refused(&survey(&[
        &["type", "name", "label", "relevant", "constraint", "required"],
        &[
            "integer",
            "age_group",
            "Age group",
            "${later} = 1",
            ". >= 18 and . < 30",
        ],
        &["integer", "later", "Later", "", "string-length(.) < 3"],
        &["text", "words", "Words", "", ". > 3"],
        &["integer", "never", "Never", "", ". > 5 and . < 3"],
        &["text", "maybe", "Maybe", "", "", "${later} > 2"],
        &["begin_group", "empty", "Empty"],
        &["end_group"],
        &["end_group"],
        &["begin group", "open", "Open"],
        &["text", "Bad Name", "Bad"],
        &["text", "words", "Again"],
        &["decimal", "weight", "Weight"],
        &["select_one missing", "pick", "Pick"],
    ]));
    assert_eq!(
        at(&problems),
        [
            ("bad_expression", Some(2), Some("relevant")),
            ("unsupported_column", Some(3), Some("constraint")),
            ("unsupported_column", Some(4), Some("constraint")),
            ("bad_constraint", Some(5), Some("constraint")),
            ("unsupported_column", Some(6), Some("required")),
            ("empty_group", Some(7), Some("type")),
            ("unbalanced_group", Some(9), Some("type")),
            ("unbalanced_group", Some(10), Some("type")),
            ("bad_name", Some(11), Some("name")),
            ("duplicate_name", Some(12), Some("name")),
            ("unsupported_type", Some(13), Some("type")),
            ("unknown_choice_list", Some(14), Some("type")),
        ],
        "{problems:#?}"
    );
    assert!(
        problems[0].message.contains("not asked before it"),
        "{}",
        problems[0].message
    );
}

#[test]
fn nested_groups_add_their_rules_to_their_questions() {
    let form = convert(
        &survey(&[
            &["type", "name", "label", "relevant"],
            &["integer", "adults", "Adults in the group"],
            &["begin_group", "outer", "Outer", "${adults} > 0"],
            &["begin_group", "inner", "Inner", "${adults} > 2"],
            &["integer", "minors", "Minors", "${adults} < 9"],
            &["end_group"],
            &["end_group"],
        ]),
        &defaults(),
    )
    .expect("imports")
    .form;
    let minors = form.question("minors").expect("minors");
    assert_eq!(minors.section.as_deref(), Some("outer"));
    assert_eq!(
        minors.relevant.as_deref(),
        Some("(${adults} > 2) and (${adults} < 9)")
    );
    assert_eq!(form.question("adults").expect("adults").section, None);
}

#[test]
fn settings_are_checked_and_areas_come_from_the_request_first() {
    let rows: &[&[&str]] = &[&["type", "name", "label"], &["text", "notes_field", "Notes"]];
    let problems = match convert(&survey(rows), &Defaults::default()) {
        Err(ImportError::Refused(problems)) => problems,
        other => panic!("{other:?}"),
    };
    let codes: Vec<_> = problems.iter().map(|p| (p.code, p.column.as_deref())).collect();
    assert_eq!(
        codes,
        [("bad_setting", Some("form_id")), ("bad_setting", Some("areas"))]
    );

    let bytes = workbook(&[
        ("survey", rows.iter().map(|r| t(r)).collect()),
        (
            "settings",
            vec![t(&["form_id", "areas", "version"]), t(&["f", "east west", "v2"])],
        ),
    ]);
    let problems = refused(&bytes);
    assert_eq!(at(&problems), [("bad_setting", Some(2), Some("version"))]);
    let bytes = workbook(&[
        ("survey", rows.iter().map(|r| t(r)).collect()),
        ("settings", vec![t(&["form_id", "areas"]), t(&["f", "east west"])]),
    ]);
    assert_eq!(
        convert(&bytes, &Defaults::default()).expect("imports").form.areas,
        ["east", "west"]
    );
    assert_eq!(
        convert(&bytes, &defaults()).expect("imports").form.areas,
        ["north"]
    );
}

#[test]
fn cells_that_hold_no_text_are_refused_where_they_are_read() {
    let bytes = workbook(&[(
        "survey",
        vec![
            t(&["type", "name", "label", "notes"]),
            vec![
                C::T("text"),
                C::T("a"),
                C::F("CONCAT(\"Wh\",\"y?\")"),
                C::F("1+1"),
            ],
            vec![C::T("text"), C::T("b"), C::T("Fine")],
        ],
    )]);
    let problems = refused(&bytes);
    assert_eq!(
        at(&problems),
        [("bad_cell", Some(2), Some("label"))],
        "{problems:?}"
    );
    assert!(problems[0].message.contains("formula"));
}

#[test]
fn hostile_archives_are_refused_before_they_are_read() {
    assert!(matches!(
        convert(b"not a zip at all", &defaults()),
        Err(ImportError::NotWorkbook(_))
    ));
    assert!(matches!(
        convert(&[], &defaults()),
        Err(ImportError::NotWorkbook(_))
    ));
    let mut truncated = fixture("outreach.xlsx");
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        convert(&truncated, &defaults()),
        Err(ImportError::NotWorkbook(_))
    ));
    let huge = vec![b'P'; MAX_WORKBOOK_BYTES + 1];
    assert!(matches!(
        convert(&huge, &defaults()),
        Err(ImportError::TooLarge { .. })
    ));
    // A zip without a workbook in it.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("hello.txt", SimpleFileOptions::default())
        .expect("start");
    zip.write_all(b"hello").expect("write");
    let bytes = zip.finish().expect("finish").into_inner();
    assert!(matches!(
        convert(&bytes, &defaults()),
        Err(ImportError::NotWorkbook(_))
    ));
}

/// Merged cells keep their value in the first cell and leave the others empty.
#[test]
fn merged_cells_read_as_their_first_cell() {
    let xml = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>type</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c><c r="C1" t="inlineStr"><is><t>label</t></is></c><c r="D1" t="inlineStr"><is><t>hint</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>text</t></is></c><c r="B2" t="inlineStr"><is><t>wide</t></is></c><c r="C2" t="inlineStr"><is><t>A label over two columns</t></is></c><c r="D2"/></row><row r="3"><c r="A3" t="inlineStr"><is><t>text</t></is></c><c r="B3" t="inlineStr"><is><t>tall</t></is></c><c r="C3" t="inlineStr"><is><t>Tall</t></is></c></row><row r="4"><c r="A4" t="inlineStr"><is><t>text</t></is></c><c r="B4" t="inlineStr"><is><t>below</t></is></c></row></sheetData><mergeCells count="2"><mergeCell ref="C2:D2"/><mergeCell ref="C3:C4"/></mergeCells></worksheet>"#;
    let problems = match convert(&zip_of(&["survey"], &[xml.to_owned()]), &defaults()) {
        Err(ImportError::Refused(problems)) => problems,
        other => panic!("{other:?}"),
    };
    // The merged-away cell under "Tall" is empty: that row has no label.
    assert_eq!(at(&problems), [("missing_label", Some(4), Some("label"))]);
}

/// A sheet whose XML inflates to a gigabyte of spaces from a couple of MiB: refused once the
/// budget is spent, and the process never holds more than a few MiB of it.
#[test]
fn a_decompression_bomb_is_refused_with_memory_bounded() {
    let sheet_start = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", options.large_file(true))
        .expect("start");
    zip.write_all(sheet_start.as_bytes()).expect("write");
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&spaces).expect("write");
    }
    let bomb = zip.finish().expect("finish").into_inner();
    assert!(bomb.len() < MAX_WORKBOOK_BYTES, "{}", bomb.len());
    let before = peak_memory_kib();
    let result = convert(&bomb, &defaults());
    assert!(matches!(result, Err(ImportError::TooLarge { .. })), "{result:?}");
    let grew = peak_memory_kib().saturating_sub(before);
    assert!(grew < 64 * 1024, "peak memory grew by {grew} KiB");
}

/// Empty shared strings are five bytes each in the archive and a String each in memory.
#[test]
fn a_flood_of_shared_strings_is_refused() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/sharedStrings.xml", options).expect("start");
    zip.write_all(
        br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    )
    .expect("write");
    zip.write_all(&b"<si/>".repeat(300_000)).expect("write");
    let flood = zip.finish().expect("finish").into_inner();
    let result = convert(&flood, &defaults());
    assert!(
        matches!(result, Err(ImportError::TooLarge { what, .. }) if what.contains("shared strings")),
        "{result:?}"
    );
}

/// Two cells far apart make a dense reader fill in seventeen billion; a sparse one reads two.
#[test]
fn a_sheet_spanning_every_row_and_column_is_read_sparsely() {
    let xml = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>type</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c><c r="C1" t="inlineStr"><is><t>label</t></is></c></row><row r="1048576"><c r="A1048576" t="inlineStr"><is><t>text</t></is></c><c r="B1048576" t="inlineStr"><is><t>last</t></is></c><c r="C1048576" t="inlineStr"><is><t>The last row</t></is></c><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row></sheetData></worksheet>"#;
    let before = peak_memory_kib();
    let imported = convert(&zip_of(&["survey"], &[xml.to_owned()]), &defaults()).expect("imports");
    assert_eq!(imported.form.questions[0].id, "last");
    assert!(peak_memory_kib().saturating_sub(before) < 64 * 1024);
}

#[test]
fn too_many_cells_are_refused() {
    let mut xml = String::from(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for r in 1..=(MAX_CELLS / 4 + 2) {
        xml.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>1</v></c><c r="B{r}"><v>2</v></c><c r="C{r}"><v>3</v></c><c r="D{r}"><v>4</v></c></row>"#));
    }
    xml.push_str("</sheetData></worksheet>");
    let result = convert(&zip_of(&["survey"], &[xml]), &defaults());
    assert!(matches!(result, Err(ImportError::TooLarge { .. })), "{result:?}");
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
