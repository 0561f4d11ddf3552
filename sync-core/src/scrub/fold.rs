//! Folds text to the plain form the scrubber and the identifying-question check match on.
//!
//! Why: a hostile client or form author can write the same phone number or word in many
//! ways that read alike: full-width or circled digits, Thai or Arabic-Indic digits, a Greek
//! omicron in "phone", a non-breaking hyphen in "e-mail", zero-width spaces inside a number.
//! Matching on folded text makes all of them one spelling, so the word lists and patterns
//! only ever name the plain one.
//!
//! Each character folds on its own (compatibility decomposition, the first half of NFKC),
//! which lets the scrubber map every folded character back to the one it came from and mask
//! the author's own text rather than a rewritten copy of it. Composition is left out: after
//! diacritics are dropped there is nothing left to compose for matching.

use unicode_normalization::char::decompose_compatible;

/// The zero of every block of Unicode decimal digits (general category Nd, Unicode 16, as in
/// regex-syntax's tables). Each block is ten consecutive code points for the values 0 to 9.
const DIGIT_ZEROS: [u32; 76] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50,
    0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x10D40,
    0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA,
    0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0,
    0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
    0x1E5F1, 0x1E950, 0x1FBF0,
];

/// Circled digits that have no compatibility decomposition (dingbats and negative circled
/// forms), as (first code point, value of the first, last code point).
const CIRCLED_DIGITS: [(u32, u32, u32); 5] = [
    (0x24EB, 11, 0x24F4), // ⓫..⓴
    (0x24FF, 0, 0x24FF),  // ⓿
    (0x2776, 1, 0x277F),  // ❶..❿
    (0x2780, 1, 0x2789),  // ➀..➉
    (0x278A, 1, 0x2793),  // ➊..➓
];

/// Greek and Cyrillic letters that look like Latin ones, and a few Latin variants.
const LOOK_ALIKES: &[(char, char)] = &[
    ('Α', 'A'),
    ('Β', 'B'),
    ('Ε', 'E'),
    ('Ζ', 'Z'),
    ('Η', 'H'),
    ('Ι', 'I'),
    ('Κ', 'K'),
    ('Μ', 'M'),
    ('Ν', 'N'),
    ('Ο', 'O'),
    ('Ρ', 'P'),
    ('Τ', 'T'),
    ('Υ', 'Y'),
    ('Χ', 'X'),
    ('α', 'a'),
    ('ε', 'e'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('ϲ', 'c'),
    ('ϳ', 'j'),
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('У', 'Y'),
    ('Х', 'X'),
    ('Ѕ', 'S'),
    ('І', 'I'),
    ('Ј', 'J'),
    ('Ԁ', 'D'),
    ('Ԛ', 'Q'),
    ('Ԝ', 'W'),
    ('а', 'a'),
    ('в', 'b'),
    ('е', 'e'),
    ('к', 'k'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('т', 't'),
    ('у', 'y'),
    ('х', 'x'),
    ('ѕ', 's'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ԁ', 'd'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('һ', 'h'),
    ('ӏ', 'l'),
    ('ı', 'i'),
    ('ɡ', 'g'),
];

/// Folds one character, calling `out` with each character it becomes (none for an invisible
/// one): compatibility forms are decomposed (full-width, circled, superscript, ligatures),
/// diacritics, zero-width and bidi controls and variation selectors are dropped, every
/// decimal digit becomes an ASCII digit, look-alike letters become Latin ones and dash
/// variants become `-`. Case is kept: callers that ignore it lower-case afterwards.
pub(crate) fn fold_char(c: char, mut out: impl FnMut(char)) {
    if c.is_ascii() {
        return out(c);
    }
    if let Some(value) = circled_value(c) {
        return digits_of(value, out);
    }
    decompose_compatible(c, |part| {
        if !is_invisible(part) {
            out(fold_simple(part));
        }
    });
}

/// Whether [`fold_char`] leaves `c` as it is; true for ASCII and most letters of most scripts.
pub(crate) fn folds_to_itself(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    let mut same = true;
    let mut count = 0;
    fold_char(c, |folded| {
        count += 1;
        same &= folded == c;
    });
    same && count == 1
}

/// Folds `text` and lower-cases it: the form word lists are compared in.
pub(crate) fn fold_lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, |f| {
            for lower in f.to_lowercase() {
                if !is_invisible(lower) {
                    folded.push(lower);
                }
            }
        });
    }
    folded
}

fn fold_simple(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    if let Some(value) = digit_value(c) {
        return char::from_digit(value, 10).unwrap_or(c);
    }
    if matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2043}' | '\u{2212}' | '\u{2E3A}' | '\u{2E3B}'
    ) {
        return '-';
    }
    LOOK_ALIKES
        .iter()
        .find(|(from, _)| *from == c)
        .map_or(c, |&(_, to)| to)
}

/// Writes a circled number's digits (at most two).
fn digits_of(value: u32, mut out: impl FnMut(char)) {
    if value >= 10 {
        out(char::from_digit(value / 10, 10).unwrap_or('0'));
    }
    out(char::from_digit(value % 10, 10).unwrap_or('0'));
}

fn circled_value(c: char) -> Option<u32> {
    let code = u32::from(c);
    CIRCLED_DIGITS
        .iter()
        .find(|&&(first, _, last)| (first..=last).contains(&code))
        .map(|&(first, value, _)| value + code - first)
}

/// The value of a Unicode decimal digit.
pub(crate) fn digit_value(c: char) -> Option<u32> {
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let code = u32::from(c);
    let block = DIGIT_ZEROS.partition_point(|&zero| zero <= code).checked_sub(1)?;
    let value = code - DIGIT_ZEROS[block];
    (value < 10).then_some(value)
}

/// Characters that change nothing a reader sees, or only accent a letter: combining
/// diacritics (incl. the enclosing circle and keycap marks), zero-width characters, bidi
/// controls, variation selectors, soft hyphens and tags.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{300}'..='\u{36F}'
            | '\u{61C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(text: &str) -> String {
        let mut folded = String::new();
        for c in text.chars() {
            fold_char(c, |f| folded.push(f));
        }
        folded
    }

    #[test]
    fn folds_digits_of_every_kind_to_ascii() {
        for (input, expected) in [
            ("⓪⑧①②③④⑤⑥⑦⑧", "0812345678"),
            ("⁰⁸¹²³⁴⁵⁶⁷⁸", "0812345678"),
            ("₀₈₁", "081"),
            ("０８１２", "0812"),
            ("๐๘๑", "081"),
            ("٠٨١", "081"),
            ("۰۸۱", "081"),
            ("०८१", "081"),
            ("𝟎𝟖𝟏", "081"),
            ("❶➁➓⓿⑩", "1210010"),
            ("0\u{FE0F}\u{20E3}8\u{FE0F}\u{20E3}", "08"),
            ("08\u{200B}12", "0812"),
        ] {
            assert_eq!(fold(input), expected, "{input:?}");
        }
    }

    #[test]
    fn folds_look_alikes_dashes_and_accents() {
        assert_eq!(fold_lowercase("Phοne"), "phone");
        assert_eq!(fold_lowercase("РНОNЕ"), "phone");
        assert_eq!(fold_lowercase("E\u{2011}mail"), "e-mail");
        assert_eq!(fold_lowercase("Número de teléfono"), "numero de telefono");
        assert_eq!(
            fold_lowercase("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            "jane@example.com"
        );
        assert_eq!(fold_lowercase("เบอร์โทร"), "เบอร์โทร");
        assert!(folds_to_itself('ท') && folds_to_itself('a') && !folds_to_itself('é'));
    }

    #[test]
    fn digit_values_cover_each_block_and_nothing_between() {
        for zero in DIGIT_ZEROS {
            for value in 0..10 {
                let c = char::from_u32(zero + value).expect("digit");
                assert_eq!(digit_value(c), Some(value), "{c:?}");
            }
        }
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('\u{670}'), None);
    }
}
