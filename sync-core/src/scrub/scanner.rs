//! A cursor over folded text for the passes written by hand rather than as patterns: dates
//! and digit runs need to check values (a month is 1 to 12), which patterns cannot.

#[derive(Clone, Copy)]
pub(super) struct Scanner<'t> {
    text: &'t str,
    pub(super) pos: usize,
}

impl<'t> Scanner<'t> {
    pub(super) fn new(text: &'t str, pos: usize) -> Scanner<'t> {
        Scanner { text, pos }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// The character before the cursor.
    pub(super) fn before(&self) -> Option<char> {
        self.behind().chars().next_back()
    }

    /// The text before the cursor.
    pub(super) fn behind(&self) -> &'t str {
        &self.text[..self.pos]
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        self.eat_if(|next| next == c).is_some()
    }

    pub(super) fn eat_if(&mut self, accept: impl Fn(char) -> bool) -> Option<char> {
        let c = self.peek().filter(|&c| accept(c))?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn spaces(&mut self) -> usize {
        let mut count = 0;
        while self.eat_if(char::is_whitespace).is_some() {
            count += 1;
        }
        count
    }

    /// A run of ASCII digits: its value (saturating) and its length.
    pub(super) fn number(&mut self) -> Option<(u32, usize)> {
        let digits = self.text[self.pos..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 {
            return None;
        }
        let value = self.text[self.pos..self.pos + digits].bytes().fold(0u32, |v, b| {
            v.saturating_mul(10).saturating_add(u32::from(b - b'0'))
        });
        self.pos += digits;
        Some((value, digits))
    }

    /// A run of letters.
    pub(super) fn word(&mut self) -> Option<&'t str> {
        let start = self.pos;
        while self.eat_if(char::is_alphabetic).is_some() {}
        (self.pos > start).then(|| &self.text[start..self.pos])
    }
}
