//! Rules as form authors write them, as attackers write them, and as nobody writes them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::Form;

fn form() -> Form {
    Form::from_value(json!({
        "id": "outreach", "version": 1, "title": "Outreach", "areas": ["north"],
        "questions": [
            { "id": "consent", "type": "single", "label": "Agree to take part?", "options": ["yes", "no"] },
            { "id": "help", "type": "multi", "label": "Who helped?", "options": ["ngo", "police", "family"] },
            { "id": "met", "type": "integer", "label": "People met", "min": 0, "max": 50 },
            { "id": "feel", "type": "likert", "label": "I feel safe", "scale": 5 },
            { "id": "notes", "type": "text", "label": "Notes" }
        ]
    }))
    .expect("valid form")
}

const EARLIER: &[&str] = &["consent", "help", "met", "feel", "notes"];

fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
    pairs.iter().map(|(q, a)| (q.to_string(), a.clone())).collect()
}

fn holds(rule: &str, given: &[(&str, Answer)]) -> bool {
    let expr = Expr::parse(rule).expect("parses");
    expr.check(&form(), EARLIER).expect("checks");
    expr.holds(&answers(given))
}

#[test]
fn evaluates_the_common_xlsform_rules() {
    let yes = ("consent", Answer::Single("yes".into()));
    let help = ("help", Answer::Multi(vec!["ngo".into(), "family".into()]));
    assert!(holds("${consent} = 'yes'", std::slice::from_ref(&yes)));
    assert!(!holds("${consent} = 'yes'", &[]));
    assert!(holds("${consent} != 'yes'", &[]));
    assert!(holds("${consent} = ''", &[]));
    assert!(holds("${consent} != \"\"", std::slice::from_ref(&yes)));
    assert!(holds(
        "selected(${help}, 'ngo') and not(selected(${help}, 'police'))",
        std::slice::from_ref(&help)
    ));
    assert!(holds("count-selected(${help}) >= 2", std::slice::from_ref(&help)));
    assert!(!holds("count-selected(${help}) > 0", &[]));
    assert!(holds(
        "${met} > 3 or ${feel} <= 2",
        &[("feel", Answer::Likert(1))]
    ));
    assert!(
        !holds("${met} > 3 or ${feel} <= 2", &[]),
        "unanswered numbers compare as nothing"
    );
    assert!(holds(
        "(${met} >= -1) and (${met} < 10)",
        &[("met", Answer::Integer(0))]
    ));
    assert!(holds("true()", &[]));
}

#[test]
fn refuses_rules_that_do_not_fit_the_form() {
    let fault = |rule: &str, earlier: &[&str]| {
        Expr::parse(rule)
            .and_then(|expr| expr.check(&form(), earlier))
            .expect_err(rule)
    };
    assert!(fault("${nobody} = 'x'", EARLIER).contains("not a question"));
    assert!(fault("${notes} != ''", &["consent"]).contains("not asked before"));
    assert!(fault("${consent} = 'maybe'", EARLIER).contains("does not offer"));
    assert!(fault("selected(${help}, 'army')", EARLIER).contains("does not offer"));
    assert!(fault("${consent} > 3", EARLIER).contains("does not fit"));
    assert!(fault("${met} = 'many'", EARLIER).contains("does not fit"));
    assert!(fault("${help} = 'ngo'", EARLIER).contains("selected()"));
    assert!(fault("count-selected(${consent}) > 1", EARLIER).contains("not a multiple choice"));
    assert!(fault("${met}", EARLIER).contains("yes-or-no"));
    assert!(fault("3 = 'x'", EARLIER).contains("different kinds"));
    assert!(fault("${met} > 1 and 4", EARLIER).contains("yes-or-no"));
    assert!(fault("pulldata('x')", EARLIER).contains("does not offer"));
    assert!(fault("${met} + 1 > 2", EARLIER).contains("does not use"));
    assert!(fault("${consent} = 'yes", EARLIER).contains("never closed"));
    assert!(fault("(${met} > 1", EARLIER).contains("ends too soon"));
    assert!(fault("${met} > 1)", EARLIER).contains("should end"));
    assert!(fault("99999999999999999999 > 1", EARLIER).contains("out of range"));
}

#[test]
fn bounds_length_and_nesting() {
    let deep = format!(
        "{}true(){}",
        "not(".repeat(MAX_DEPTH_FOR_TEST),
        ")".repeat(MAX_DEPTH_FOR_TEST)
    );
    assert!(Expr::parse(&deep).expect_err("too deep").contains("deeper"));
    let hostile = "(".repeat(100_000);
    assert!(Expr::parse(&hostile).expect_err("too long").contains("longer"));
    let long_chain = vec!["${met} > 1"; 60].join(" and ");
    assert!(Expr::parse(&long_chain).is_ok(), "long flat chains are not deep");
}

const MAX_DEPTH_FOR_TEST: usize = parse::MAX_DEPTH + 1;

proptest! {
    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,300}") {
        if let Ok(expr) = Expr::parse(&source) {
            let _ = expr.check(&form(), EARLIER);
            let _ = expr.holds(&BTreeMap::new());
        }
    }

    #[test]
    fn arbitrary_token_soup_never_panics(parts in prop::collection::vec(
        prop::sample::select(vec!["(", ")", "not(", "selected(", "count-selected(", "${help}", "${met}",
            "${consent}", ",", "'ngo'", "'yes'", "''", "=", "!=", "<", ">=", "and", "or", "3", "-2", "true()"]),
        0..200,
    )) {
        let source = parts.join(" ");
        if let Ok(expr) = Expr::parse(&source)
            && expr.check(&form(), EARLIER).is_ok() {
                let _ = expr.holds(&answers(&[("met", Answer::Integer(4)), ("help", Answer::Multi(vec!["ngo".into()]))]));
            }
    }
}
