//! Reads the word lists kept as data in `sync-core/data/`, one file per language, so a
//! language is added by adding a file rather than by editing code.
//!
//! A file is lines of text: `# comments` and blank lines are skipped, `[name]` starts a
//! section, and every other line, trimmed, is an entry of the section above it.

/// The entries of a word list with the section each one sits in.
pub(crate) fn entries(file: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut section = "";
    file.lines().filter_map(move |line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
            return None;
        }
        Some((section, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_skips_comments() {
        let file = "# a list\nfirst\n\n[digits]\n  one 1 \n# two\n[months]\nmay\n";
        let read: Vec<_> = entries(file).collect();
        assert_eq!(read, [("", "first"), ("digits", "one 1"), ("months", "may")]);
    }
}
