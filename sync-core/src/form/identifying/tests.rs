//! The identifying-question check: bypasses found so far are refused, ordinary outreach and
//! stigma questions in every language with a word list pass, and so does every form the
//! repository ships.

use serde_json::{Value, json};

use crate::{Error, Form};

/// A valid form around one question.
fn form_with(question: &Value) -> Value {
    json!({
        "id": "outreach", "version": 1, "title": "Outreach", "areas": ["north"],
        "questions": [
            { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"] },
            question
        ]
    })
}

fn text(id: &str, label: &str) -> Value {
    json!({ "id": id, "type": "text", "label": label })
}

/// (question, what the refusal says is asked for).
fn bypasses() -> Vec<(Value, &'static str)> {
    let translated = |language: &str, label: &str| json!({ "id": "q7", "type": "text", "label": "Question 7", "translations": { language: label } });
    vec![
        // Reported bypasses.
        (translated("es", "Número de teléfono"), "a phone number"),
        (translated("th", "เบอร์โทรศัพท์"), "a phone number"),
        (translated("es", "Nombre completo"), "a name"),
        (text("q7", "Phone?"), "a phone number"),
        (text("q7", "Name:"), "a name"),
        (text("respondentname", "Respondent"), "a name"),
        (
            json!({ "id": "q7", "type": "date", "label": "Date you were born" }),
            "a date of birth",
        ),
        (
            json!({ "id": "year_born", "type": "integer", "label": "Year", "min": 1900, "max": 2030 }),
            "a date of birth",
        ),
        (text("q7", "Ph\u{3bf}ne number"), "a phone number"),
        (text("q7", "E\u{2011}mail"), "an e-mail address"),
        (
            json!({ "id": "q7", "type": "single", "label": "Location",
                    "options": [{ "id": "share", "label": "Give GPS coordinates" }, "none"] }),
            "a location",
        ),
        // Their neighbours.
        (text("q7", "YOUR NAME"), "a name"),
        (text("q7", "Name and phone"), "a name"),
        (text("q1_name", "Question 1"), "a name"),
        (text("DateOfBirth", "Question"), "a date of birth"),
        (text("q7", "Nom :"), "a name"),
        (text("q7", "Nome"), "a name"),
        (text("q7", "Teléfono"), "a phone number"),
        (text("q7", "ชื่อ"), "a name"),
        (text("q7", "ชื่อ - นามสกุล"), "a name"),
        (text("q7", "Escriba su teléfono"), "a phone number"),
        (text("q7", "Quel est votre nom ?"), "a name"),
        (text("q7", "Qual é o seu nome?"), "a name"),
        (text("q7", "Birth year"), "a date of birth"),
        (text("q7", "Year born"), "a date of birth"),
        (text("q7", "Año de nacimiento"), "a date of birth"),
        (text("q7", "Année de naissance"), "a date of birth"),
        (text("q7", "Data de nascimento"), "a date of birth"),
        (text("q7", "วันเดือนปีเกิด"), "a date of birth"),
        (text("q7", "Passport number"), "an id number"),
        (text("q7", "Line ID"), "a phone number"),
        (text("q7", "Código postal"), "an address"),
        (
            json!({ "id": "q7", "type": "text", "label": "Notes", "placeholder": "Phone number" }),
            "a phone number",
        ),
        (
            json!({ "id": "q7", "type": "text", "label": "Notes", "hint": "Write the p\u{200b}hone number" }),
            "a phone number",
        ),
    ]
}

#[test]
fn refuses_every_known_bypass_naming_the_question() {
    for (question, what) in bypasses() {
        let id = question["id"].as_str().unwrap_or_default().to_owned();
        let form = form_with(&question);
        assert_eq!(
            Form::from_value(form.clone()),
            Err(Error::IdentifyingQuestion { question: id, what }),
            "{form}"
        );
    }
}

/// Ordinary outreach and stigma questions that share words with identifying ones.
const ORDINARY_LABELS: &[&str] = &[
    "How many people did you reach?",
    "Age group",
    "Age",
    "Area",
    "Do not write names",
    "Notes (no names, numbers or places)",
    "How many phones did the team hand out?",
    "Which services were named by the respondent?",
    "Does the employer keep their passport?",
    "Where did the contact happen?",
    "Tournament or festival attended",
    "Who would you turn to for help?",
    "Has a phone of their own",
    "People who were trafficked brought it on themselves",
    "¿A cuántas personas llegaron?",
    "Grupo de edad",
    "Zona",
    "¿A quién acudiría para pedir ayuda?",
    "¿El empleador guarda sus documentos?",
    "Nombre de personnes rencontrées",
    "Tranche d'âge",
    "À qui demanderiez-vous de l'aide ?",
    "L'employeur garde-t-il les papiers ?",
    "Quantas pessoas você conhece que foram trabalhar fora?",
    "Faixa etária",
    "Área",
    "A quem você pediria ajuda?",
    "คุณรู้จักกี่คนที่ไปทำงานต่างประเทศ",
    "ช่วงอายุ",
    "พื้นที่",
    "ฉันเชื่อว่าคนที่ถูกค้ามนุษย์เป็นฝ่ายผิด",
    "ฉันเชื่อจริงๆ ว่าเขาต้องการความช่วยเหลือ",
    "คนที่อยู่ในกลุ่มมีกี่คน",
    "วันเกิดเหตุ",
];

#[test]
fn accepts_ordinary_questions_in_every_language() {
    for label in ORDINARY_LABELS {
        let form = form_with(&text("q7", label));
        assert!(Form::from_value(form).is_ok(), "{label:?}");
        let translated =
            form_with(&json!({ "id": "q7", "type": "text", "label": "Q", "translations": { "xx": label } }));
        assert!(Form::from_value(translated).is_ok(), "{label:?} as a translation");
    }
    for id in [
        "age_group",
        "contact_type",
        "people_present",
        "known_migrants",
        "site_notes",
        "hotline_card",
    ] {
        assert!(Form::from_value(form_with(&text(id, "Q"))).is_ok(), "{id}");
    }
    // Options are choices: naming a channel is not asking for an address.
    let channels = json!({ "id": "recruited", "type": "multi", "label": "How were you recruited?",
                           "options": ["phone", "whatsapp", "facebook", { "id": "agent", "label": "An agent" }] });
    assert!(Form::from_value(form_with(&channels)).is_ok());
}

#[test]
fn the_forms_the_repository_ships_still_parse() {
    for json in [
        include_str!("../../../../server/src/demo/forms/outreach-contact.json"),
        include_str!("../../../../server/src/demo/forms/community-stigma.json"),
        include_str!("../../../tests/fixtures/js/form.json"),
    ] {
        let form = Form::from_json(json);
        assert!(form.is_ok(), "{form:?}");
    }
}
