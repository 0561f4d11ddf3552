//! The folded text the scrubber's passes read, tied piece by piece to the text it came from.
//!
//! Why: patterns are simplest and hardest to dodge on folded text (ASCII digits, number
//! words as digits, no invisible characters), but the stored answer must keep what the
//! outreach worker wrote: folding Thai "ทำ" or an accented name into another spelling would
//! change text nobody asked to change. So the passes mask spans of the folded text and the
//! result is rendered from the original, with only the masked spans replaced.

use std::borrow::Cow;
use std::ops::Range;

use super::fold::{fold_char, folds_to_itself};

pub(super) struct View<'a> {
    original: &'a str,
    /// What the passes read.
    text: Cow<'a, str>,
    /// In order; each runs from its `at` to the next one's, in both `text` and `original`.
    pieces: Vec<Piece>,
    masked: bool,
}

#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Where the piece starts in `text`.
    at: usize,
    /// Where the piece's source starts in `original`.
    from: usize,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// Text equal to its source; may be cut anywhere.
    Same,
    /// A folded character or word; masked whole or not at all.
    Folded,
    /// A mask; renders as this token.
    Mask(&'static str),
}

impl<'a> View<'a> {
    pub(super) fn new(original: &'a str) -> View<'a> {
        let mut view = View {
            original,
            text: Cow::Borrowed(original),
            pieces: vec![Piece {
                at: 0,
                from: 0,
                kind: Kind::Same,
            }],
            masked: false,
        };
        if original.chars().all(folds_to_itself) {
            return view;
        }
        let mut text = String::with_capacity(original.len());
        let mut pieces: Vec<Piece> = Vec::new();
        for (from, c) in original.char_indices() {
            let at = text.len();
            if folds_to_itself(c) {
                if pieces.last().is_none_or(|p| p.kind != Kind::Same) {
                    start_piece(&mut pieces, at, from, Kind::Same);
                }
                text.push(c);
                continue;
            }
            fold_char(c, |f| text.push(f));
            if text.len() > at {
                start_piece(&mut pieces, at, from, Kind::Folded);
            } else if pieces.is_empty() {
                // Leading invisible characters join the character after them.
                start_piece(&mut pieces, at, from, Kind::Folded);
            } else {
                // Other invisible characters join the character before them, which thus can
                // no longer be cut from it.
                detach_last_char(&mut pieces, &text);
            }
        }
        view.text = Cow::Owned(text);
        view.pieces = pieces;
        view
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// Replaces spans of the text, given in order. A span that cuts into a folded character
    /// or word, or into a mask, grows to take all of it; spans that then overlap merge.
    pub(super) fn replace<'r>(&mut self, spans: impl IntoIterator<Item = (Range<usize>, &'r str, Kind)>) {
        let mut text = String::with_capacity(self.text.len());
        let mut pieces = Vec::with_capacity(self.pieces.len() + 4);
        let mut copied = 0;
        let mut changed = false;
        for (range, replacement, kind) in spans {
            let end = self.grow_end(range.end);
            let start = self.grow_start(range.start);
            if start < copied {
                // Grown into the span before it: one mask covers both.
                copied = copied.max(end);
                continue;
            }
            if start >= end {
                continue;
            }
            self.copy(copied..start, &mut text, &mut pieces);
            pieces.push(Piece {
                at: text.len(),
                from: self.source_at(start),
                kind,
            });
            text.push_str(replacement);
            copied = end;
            changed = true;
            self.masked |= matches!(kind, Kind::Mask(_));
        }
        if !changed {
            return;
        }
        self.copy(copied..self.text.len(), &mut text, &mut pieces);
        self.text = Cow::Owned(text);
        self.pieces = pieces;
    }

    /// Masks spans of the text with tokens.
    pub(super) fn mask(&mut self, spans: impl IntoIterator<Item = (Range<usize>, &'static str)>) {
        self.replace(
            spans
                .into_iter()
                .map(|(range, token)| (range, token, Kind::Mask(token))),
        );
    }

    /// The original text with every masked span replaced by its token; `None` when nothing
    /// was masked.
    pub(super) fn render(&self) -> Option<String> {
        if !self.masked {
            return None;
        }
        let mut rendered = String::with_capacity(self.original.len());
        for (i, piece) in self.pieces.iter().enumerate() {
            let end = self.pieces.get(i + 1).map_or(self.original.len(), |p| p.from);
            match piece.kind {
                Kind::Mask(token) => rendered.push_str(token),
                Kind::Same | Kind::Folded => rendered.push_str(&self.original[piece.from..end]),
            }
        }
        Some(rendered)
    }

    /// The index of the piece holding text position `pos`.
    fn piece_at(&self, pos: usize) -> usize {
        // Among pieces starting at `pos`, the last one: the earlier ones are empty.
        self.pieces.partition_point(|p| p.at <= pos).saturating_sub(1)
    }

    fn piece_end(&self, index: usize) -> usize {
        self.pieces.get(index + 1).map_or(self.text.len(), |p| p.at)
    }

    fn grow_start(&self, pos: usize) -> usize {
        if pos >= self.text.len() {
            return pos;
        }
        let piece = self.pieces[self.piece_at(pos)];
        if piece.kind == Kind::Same { pos } else { piece.at }
    }

    fn grow_end(&self, pos: usize) -> usize {
        if pos == 0 {
            return pos;
        }
        let index = self.piece_at(pos - 1);
        if self.pieces[index].kind == Kind::Same {
            pos
        } else {
            self.piece_end(index)
        }
    }

    /// Where text position `pos` (at a piece start, or inside a Same piece) comes from.
    fn source_at(&self, pos: usize) -> usize {
        if pos >= self.text.len() {
            return self.original.len();
        }
        let piece = self.pieces[self.piece_at(pos)];
        piece.from + (pos - piece.at)
    }

    /// Copies `range` of the text, and the pieces over it, to the end of a new view.
    fn copy(&self, range: Range<usize>, text: &mut String, pieces: &mut Vec<Piece>) {
        if range.is_empty() {
            return;
        }
        let offset = text.len();
        for piece in &self.pieces[self.piece_at(range.start)..] {
            if piece.at >= range.end {
                break;
            }
            let start = piece.at.max(range.start);
            pieces.push(Piece {
                at: offset + start - range.start,
                from: piece.from + (start - piece.at),
                kind: piece.kind,
            });
        }
        text.push_str(&self.text[range]);
    }
}

/// Starts a piece, or takes over the last one when it holds nothing yet (leading invisible
/// characters), which then cannot be cut.
fn start_piece(pieces: &mut Vec<Piece>, at: usize, from: usize, kind: Kind) {
    match pieces.last_mut() {
        Some(last) if last.at == at => last.kind = Kind::Folded,
        _ => pieces.push(Piece { at, from, kind }),
    }
}

/// Makes the last character of the text a piece of its own that cannot be cut, so an
/// invisible character after it stays with it.
fn detach_last_char(pieces: &mut Vec<Piece>, text: &str) {
    let Some(last) = pieces.last().copied() else {
        return;
    };
    if last.kind != Kind::Same {
        return;
    }
    let Some((char_at, _)) = text[last.at..].char_indices().next_back() else {
        return;
    };
    if char_at == 0 {
        if let Some(piece) = pieces.last_mut() {
            piece.kind = Kind::Folded;
        }
        return;
    }
    pieces.push(Piece {
        at: last.at + char_at,
        from: last.from + char_at,
        kind: Kind::Folded,
    });
}
