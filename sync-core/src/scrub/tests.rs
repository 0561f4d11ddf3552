//! The scrubber's tests: every kind of contact detail it masks, the bypasses found so far,
//! what it must leave alone, and properties that hold for any input.

use proptest::prelude::*;

use super::*;

/// (input, expected output).
const CASES: &[(&str, &str)] = &[
    // Phone numbers, local and international.
    ("call 0712 345 678 tomorrow", "call [phone] tomorrow"),
    ("+44 7700 900123", "[phone]"),
    ("(555) 123-4567", "[phone]"),
    ("her number is 555-123-4567.", "her number is [phone]."),
    ("+66-81-234-5678", "[phone]"),
    ("07700900123", "[phone]"),
    ("+234 803 123 4567 (whatsapp)", "[phone] (whatsapp)"),
    ("00 44 20 7946 0958", "[phone]"),
    ("+1 (555) 123-4567", "[phone]"),
    ("+44 (0) 20 7946 0958", "[phone]"),
    ("(+44) 20 7946 0958", "[phone]"),
    ("ring 081.234.5678 after 6", "ring [phone] after 6"),
    ("tel:+12025550143", "tel:[phone]"),
    ("1-800-555-1234", "[phone]"),
    ("(0712 345 678)", "([phone])"),
    ("call 0712345678. 2 kits", "call [phone]. 2 kits"),
    ("โทร ๐๘๑ ๒๓๔ ๕๖๗๘", "โทร [phone]"),
    ("٠٧١٢٣٤٥٦٧٨", "[phone]"),
    ("＋４４ ７７００ ９００１２３", "[phone]"),
    ("+44\u{a0}7700\u{a0}900123", "[phone]"),
    ("2026-11-20 0712 345 678", "[date] [phone]"),
    ("+977-9812345678", "[phone]"),
    ("he said \"call 555 0199\"", "he said \"call [phone]\""),
    // Bypasses: other separators.
    ("081 . 234 . 5678", "[phone]"),
    ("081,234,5678", "[phone]"),
    ("081 / 234 / 5678", "[phone]"),
    ("081_234_5678", "[phone]"),
    ("0812 x 345 x 678", "[phone]"),
    ("0812x345x678", "[number]"),
    ("081:234:5678", "[phone]"),
    ("08:12:34:56:78", "[phone]"),
    ("081 | 234 ~ 5678", "[phone]"),
    ("081 🙂 234 🙂 5678", "[phone]"),
    ("081 -- 234 -- 5678", "[phone]"),
    ("081 [234] 5678", "[phone]"),
    // Bypasses: digits in words, mixed with digits, and in other forms.
    ("zero eight one two three four five six seven eight", "[phone]"),
    (
        "Zero, eight, one - two three four, five six seven eight",
        "[phone]",
    ),
    ("cero ocho uno dos tres cuatro cinco seis siete ocho", "[phone]"),
    ("zéro huit un deux trois quatre cinq six sept huit", "[phone]"),
    ("zéro six, douze, trente et un, cinquante-six", "[phone]"),
    ("zero oito um dois três quatro cinco seis sete oito", "[phone]"),
    ("call 081 two three four 5678 now", "call [phone] now"),
    ("⓪⑧①②③④⑤⑥⑦⑧", "[phone]"),
    ("⁰⁸¹²³⁴⁵⁶⁷⁸", "[phone]"),
    ("❶❷❸❹❺❻❼", "[number]"),
    (
        "0\u{fe0f}\u{20e3}8\u{fe0f}\u{20e3}1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}345678",
        "[phone]",
    ),
    ("0812\u{200b}345\u{200b}678", "[phone]"),
    ("0812\u{ad}345\u{ad}678!", "[phone]!"),
    ("𝟎𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "[phone]"),
    ("०८१२३४५६७८", "[phone]"),
    // E-mail addresses, plain and spelled out.
    ("write to someone@example.org", "write to [email]"),
    ("a.b+tag@mail.example.co.uk please", "[email] please"),
    ("Contact: JOHN_DOE@Example.COM.", "Contact: [email]."),
    ("josé.pérez@correo.es", "[email]"),
    ("jane＠example.com", "[email]"),
    ("name at example dot com", "[email]"),
    ("name [at] example [dot] org", "[email]"),
    ("jane(at)mail(dot)net", "[email]"),
    ("Maria AT gmail DOT com.", "[email]."),
    ("john dot smith at gmail dot co dot uk", "[email]"),
    ("jane {at} mail {dot} ru", "[email]"),
    ("maria arroba gmail punto com", "[email]"),
    ("jean arobase gmail point com", "[email]"),
    ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[email]"),
    ("jane @ gmail.com", "[email]"),
    ("jane at proton dot me", "[email]"),
    ("write jane at gmail", "write [email]"),
    ("jane(@)gmail.com", "[email]"),
    ("jane [@] gmail [.] com", "[email]"),
    ("jane@gmail[.]com", "[email]"),
    ("jane {at} gmail {.} com", "[email]"),
    ("jane <at> proton <dot> me", "[email]"),
    ("jane аt gmail dot com", "[email]"),
    // URLs and handles.
    ("see https://example.com/profile?id=123.", "see [url]."),
    ("www.facebook.com/some.person", "[url]"),
    ("example.com/profile", "[url]"),
    ("http://10.0.0.1:8080/x", "[url]"),
    ("message wa.me/66812345678 now", "message [url] now"),
    ("(https://t.me/helper)", "([url])"),
    ("on telegram @someone_92", "on telegram [url]"),
    ("@Иван_П", "[url]"),
    ("ask @jane.doe.", "ask [url]."),
    (
        "insta @jane.doe and twitter @jdoe",
        "insta [url] and twitter [url]",
    ),
    ("fb.com/jane.doe.99", "[url]"),
    ("https://www.facebook.com/profile.php?id=100012345678", "[url]"),
    // Full dates, in digits or with the month named.
    ("born 1998-03-12", "born [date]"),
    ("DOB 12/03/1998", "DOB [date]"),
    ("12.03.1998", "[date]"),
    ("12-03-98", "[date]"),
    ("3/12/98", "[date]"),
    ("born 12 March 1998", "born [date]"),
    ("born March 12, 1998", "born [date]"),
    ("12th of March, 1998.", "[date]."),
    ("Mar. 12th 1998", "[date]"),
    ("12-Mar-1998", "[date]"),
    ("nació el 12 de marzo de 1998", "nació el [date]"),
    ("née le 1er août 1998", "née le [date]"),
    ("nasceu em 12 de março de 1998", "nasceu em [date]"),
    ("twelve March 1998", "[date]"),
    ("2026-11-20", "[date]"),
    ("2026-11-20T10:00:00Z", "[date]T10:00:00Z"),
    ("from 2026-11-20 to 2026-11-25", "from [date] to [date]"),
    ("2026-11-20 - 2026-11-25", "[date] - [date]"),
    ("20/11/2026 and 11.20.2026", "[date] and [date]"),
    ("flight TG 123 on 12.03.2024", "flight TG 123 on [date]"),
    ("COVID19 test on 20Nov2026", "COVID19 test on [date]"),
    // Long digit runs: ID and passport numbers.
    ("ID 1234567890", "ID [number]"),
    ("passport AB1234567", "passport [number]"),
    ("passport no. 12AB34567", "passport no. [number]"),
    (
        "her passport (no. K1234567) was taken",
        "her passport (no. [number]) was taken",
    ),
    ("card 1234 5678 9012 3456", "card [number]"),
    ("ref 12-3456-789", "ref [number]"),
    ("DNI 12.345.678", "DNI [number]"),
    ("1234567", "[number]"),
    // Mixed.
    (
        "Met J. at the station at 10:30, gave 2 kits; call 0812345678 or j.doe@mail.com",
        "Met J. at the station at 10:30, gave 2 kits; call [phone] or [email]",
    ),
    // Ambiguous, so masked on purpose: a list of numbers, amounts written like an id, and
    // coordinates (a place, which can be as telling as a number).
    ("scores 12 15 20 30", "scores [number]"),
    ("1.200.000 pesos", "[number] pesos"),
    ("1,200,000 kip", "[number] kip"),
    ("GPS 13.75, 100.50", "GPS [number]"),
    // What must stay.
    ("2 kits", "2 kits"),
    ("gave 2 kits", "gave 2 kits"),
    ("3 of 5", "3 of 5"),
    ("about 40 people", "about 40 people"),
    ("age 25", "age 25"),
    ("5", "5"),
    ("3 of 10 people", "3 of 10 people"),
    ("25-30 years", "25-30 years"),
    ("1/2 of the group", "1/2 of the group"),
    ("1/2", "1/2"),
    ("on 12/03", "on 12/03"),
    ("on 12 March", "on 12 March"),
    ("in March 2019", "in March 2019"),
    ("March 12 people came", "March 12 people came"),
    ("el 12 de marzo", "el 12 de marzo"),
    ("at 10:30", "at 10:30"),
    ("10:30", "10:30"),
    (
        "visited 10:30-11:45, then 14:00-16:30",
        "visited 10:30-11:45, then 14:00-16:30",
    ),
    ("100% agreed", "100% agreed"),
    ("100%", "100%"),
    ("8am-5pm, Mon-Fri", "8am-5pm, Mon-Fri"),
    ("1,200 leaflets", "1,200 leaflets"),
    ("123456", "123456"),
    ("room 12B", "room 12B"),
    ("app v2.0", "app v2.0"),
    ("app 1.2.10", "app 1.2.10"),
    ("v2.0", "v2.0"),
    ("debt of 150,000 baht", "debt of 150,000 baht"),
    ("Gave 3 condoms and 2 leaflets", "Gave 3 condoms and 2 leaflets"),
    ("aged between 18 and 24", "aged between 18 and 24"),
    ("since 2019", "since 2019"),
    ("2019", "2019"),
    ("1999-2001, 2003", "1999-2001, 2003"),
    ("worked there 2019-2023", "worked there 2019-2023"),
    ("in 2019, 2020 and 2021", "in 2019, 2020 and 2021"),
    ("500 baht", "500 baht"),
    ("one of the two women came back", "one of the two women came back"),
    (
        "she is twenty-three, her sister nineteen",
        "she is twenty-three, her sister nineteen",
    ),
    ("I met her once, at the market", "I met her once, at the market"),
    (
        "vingt et une personnes, trois enfants",
        "vingt et une personnes, trois enfants",
    ),
    ("tres mujeres y dos hombres", "tres mujeres y dos hombres"),
    ("duas mulheres e um homem", "duas mulheres e um homem"),
    ("ทำงานที่ร้าน ๓ คน", "ทำงานที่ร้าน ๓ คน"),
    ("Café con 2 señoras", "Café con 2 señoras"),
    (
        "met at the market, dot on the map",
        "met at the market, dot on the map",
    ),
    ("we met at home dot", "we met at home dot"),
    (
        "she was at school dot in the morning",
        "she was at school dot in the morning",
    ),
    (
        "she was at school. In the morning",
        "she was at school. In the morning",
    ),
    ("meet @ 5pm", "meet @ 5pm"),
    ("llegó a las 5 en punto", "llegó a las 5 en punto"),
    ("hi @ all", "hi @ all"),
    ("I met at 10 dot 30", "I met at 10 dot 30"),
    (
        "e.g. the bus station, and/or the port",
        "e.g. the bus station, and/or the port",
    ),
    ("", ""),
];

#[test]
fn masks_identifiers_and_keeps_ordinary_text() {
    for (input, expected) in CASES {
        assert_eq!(scrub_free_text(input), *expected, "input {input:?}");
    }
}

#[test]
fn scrubbing_is_idempotent_and_checkable() {
    for (input, expected) in CASES {
        let once = scrub_free_text(input);
        assert_eq!(scrub_free_text(&once), once, "input {input:?}");
        assert!(is_scrubbed(&once), "input {input:?}");
        assert_eq!(is_scrubbed(input), input == expected, "input {input:?}");
    }
}

/// Joins fragments at random (a fixed xorshift seed, so a failure reproduces) to look for
/// inputs whose output the server's re-check would refuse.
#[test]
fn random_mixtures_scrub_to_a_fixed_point() {
    const FRAGMENTS: &[&str] = &[
        "0712",
        "345 678",
        "+44",
        "(0)",
        "2026-11-20",
        "2019",
        "1999",
        "20",
        "11",
        "555",
        "4567",
        "1",
        "0",
        "AB",
        "1234567",
        "๑๒๓",
        "@",
        "＠",
        "@jane",
        "jane",
        "é",
        "ไทย",
        "at",
        " at ",
        "dot",
        " dot ",
        "[at]",
        "(dot)",
        "com",
        "org",
        "uk",
        "example.com",
        "wa.me/",
        "www.",
        "https://",
        "//",
        "/",
        ".",
        "-",
        " ",
        "\n",
        "(",
        ")",
        "[",
        "]",
        ":",
        "_",
        "%",
        ",",
        "+",
        "[phone]",
        "[email]",
        "[url]",
        "[number]",
        "[date]",
        "zero",
        " eight",
        "un",
        " et ",
        "March",
        "12",
        "1998",
        "x",
        "\u{200B}",
        "⑧",
        "๑",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % 1_000_003).unwrap_or(0)
    };
    for _ in 0..2_000 {
        let len = next() % 12 + 1;
        let text: String = (0..len).map(|_| FRAGMENTS[next() % FRAGMENTS.len()]).collect();
        let scrubbed = scrub_free_text(&text);
        assert_eq!(scrub_free_text(&scrubbed), scrubbed, "input {text:?}");
        assert!(is_scrubbed(&scrubbed), "input {text:?}");
        assert_eq!(is_scrubbed(&text), scrubbed == text, "input {text:?}");
    }
}

#[test]
fn long_inputs_finish_and_are_masked() {
    // About 100 KB of text and digits.
    let text = "call 0712 345 678 or write a@b.org; 3 kits on 2026-11-20. ".repeat(1_700);
    let scrubbed = scrub_free_text(&text);
    assert!(!scrubbed.contains("0712") && !scrubbed.contains('@'));
    assert_eq!(scrubbed.matches(DATE).count(), 1_700);
    assert_eq!(scrubbed.matches(PHONE).count(), 1_700);
    assert_eq!(scrub_free_text(&"9".repeat(30_000)), NUMBER);
    assert_eq!(scrub_free_text(&"9 ".repeat(10_000)), format!("{NUMBER} "));
    // Shapes that keep many partial matches alive; 10 KB each keeps debug builds quick.
    for unit in [
        "a at ",
        "a at b dot com dot ",
        "a [at] ",
        "@a.",
        "ab@c.d ",
        "www.",
        "x.co/",
        "AB1",
        "1-",
        "(1) ",
        "2026-11-20 ",
        "12 March ",
        "one two ",
        "1:",
        "\u{200B}1",
    ] {
        let text = unit.repeat(10_000 / unit.len());
        assert!(is_scrubbed(&scrub_free_text(&text)), "unit {unit:?}");
    }
}

/// National phone formats as a country prefix and the lengths of the digit groups after it.
const PHONE_FORMATS: &[(&str, &[usize])] = &[
    ("+66", &[2, 3, 4]),    // Thailand mobile: +66 81 234 5678
    ("", &[3, 3, 4]),       // 081 234 5678
    ("", &[4, 3, 3]),       // 0812-345-678
    ("", &[2, 4, 4]),       // (02) 1234 5678
    ("+1", &[3, 3, 4]),     // +1 (555) 123-4567
    ("", &[5, 6]),          // 07700 900123
    ("+44", &[4, 6]),       // +44 7700 900123
    ("+55", &[2, 5, 4]),    // +55 11 91234-5678
    ("+63", &[3, 3, 4]),    // Philippines
    ("+84", &[2, 3, 2, 2]), // Vietnam
    ("+855", &[2, 3, 3]),   // Cambodia
    ("+95", &[1, 3, 3, 3]), // Myanmar
    ("+91", &[5, 5]),       // India
    ("+234", &[3, 3, 4]),   // Nigeria
    ("+52", &[2, 4, 4]),    // Mexico
    ("", &[2, 2, 2, 2, 2]), // France: 06 12 34 56 78
    ("+977", &[10]),        // Nepal
];

/// The separators a client might put between digit groups.
const SEPARATORS: &[&str] = &[
    " ", ".", ",", "/", "-", "_", "x", " x ", " . ", " , ", " / ", " - ", "_-_", "(", ")", ") ", " (", "[",
    "]", "+", "  ", ":", " | ", "\u{a0}", "\u{200b}", "\u{2011}",
];

/// Words around the number; none holds a digit, so any digit left after scrubbing leaked.
const WORDS: &[&str] = &[
    "call",
    "her",
    "number",
    "is",
    "tomorrow",
    "at the market",
    "whatsapp",
    "or",
    "line",
    "ask for",
    "thanks",
    "โทร",
    "llamar al",
    "appeler le",
    "ligar para",
    "gave kits",
    "(mobile)",
    "tel:",
    "no.",
];

/// Writes digits in one of several scripts, or as number words.
fn spell(digits: &str, script: usize) -> String {
    const WORD_DIGITS: [[&str; 10]; 2] = [
        [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        ],
        [
            "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
        ],
    ];
    const ZEROS: [u32; 6] = [0x30, 0xE50, 0x660, 0xFF10, 0x966, 0x1D7CE];
    digits
        .chars()
        .map(|d| {
            let value = d.to_digit(10).unwrap_or(0);
            match script {
                0..=5 => char::from_u32(ZEROS[script] + value).unwrap_or(d).to_string(),
                6 => format!("{} ", WORD_DIGITS[0][value as usize]),
                _ => format!("{} ", WORD_DIGITS[1][value as usize]),
            }
        })
        .collect()
}

/// Digit runs of the scrubbed text, counting digits joined by separators of up to four
/// characters, as a reader (or the scrubber) would join them.
fn longest_digit_run(text: &str) -> usize {
    let mut folded = String::new();
    for c in text.chars() {
        fold::fold_char(c, |f| folded.push(f));
    }
    let mut longest = 0;
    let mut run = 0;
    let mut gap = 0;
    for c in folded.chars() {
        if c.is_ascii_digit() {
            run += 1;
            gap = 0;
            longest = longest.max(run);
        } else if !c.is_alphanumeric() || c == 'x' {
            gap += 1;
            if gap > 4 && !c.is_whitespace() {
                run = 0;
            }
        } else {
            run = 0;
        }
    }
    longest
}

fn phone_number() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PHONE_FORMATS),
        prop::collection::vec(0u8..10, 15),
        prop::collection::vec(prop::sample::select(SEPARATORS), 6),
        any::<bool>(),
        0usize..8,
    )
        .prop_map(|((prefix, groups), digits, separators, bracket, script)| {
            let mut digits = digits.into_iter().map(|d| char::from(b'0' + d));
            let mut number = String::new();
            if !prefix.is_empty() {
                number.push_str(prefix);
                number.push_str(separators[5]);
            } else {
                // A national number is dialled with a leading 0.
                number.push('0');
            }
            for (i, &len) in groups.iter().enumerate() {
                let group: String = digits
                    .by_ref()
                    .take(len - usize::from(i == 0 && prefix.is_empty()))
                    .collect();
                let group = spell(&group, script);
                if i == 0 && bracket {
                    number.push_str(&format!("({group})"));
                } else {
                    number.push_str(&group);
                }
                if i + 1 < groups.len() && script >= 6 {
                    // Words need spaces around a separator to stay words.
                    number.push_str(&format!(" {} ", separators[i]));
                } else if i + 1 < groups.len() {
                    number.push_str(separators[i]);
                }
            }
            number
        })
}

proptest! {
    /// Phone numbers in national formats, with any separators from the bypasses found so far,
    /// in any script or in words, between ordinary words: none survives scrubbing.
    #[test]
    fn phone_numbers_never_survive(
        number in phone_number(),
        before in prop::collection::vec(prop::sample::select(WORDS), 0..4),
        after in prop::collection::vec(prop::sample::select(WORDS), 0..4),
    ) {
        let text = format!("{} {number} {}", before.join(" "), after.join(" "));
        prop_assert!(!is_scrubbed(&text), "accepted {text:?}");
        let scrubbed = scrub_free_text(&text);
        prop_assert!(longest_digit_run(&scrubbed) < 7, "{text:?} became {scrubbed:?}");
        prop_assert!(is_scrubbed(&scrubbed), "{text:?} became {scrubbed:?}");
    }
}
