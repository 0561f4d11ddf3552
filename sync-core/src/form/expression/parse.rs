//! Reads the XLSForm subset: `${q} = 'opt'`, `selected(${q}, 'opt')`, `count-selected(${q})`,
//! whole-number comparisons, `and`, `or`, `not()` and parentheses. Input comes from form
//! authors and spreadsheets, so length and nesting are bounded before anything recursive runs.

use super::{Compare, Expr};

/// Long enough for any skip rule a person writes by hand.
pub const MAX_LEN: usize = 1000;
/// Parentheses and `not()` nest no deeper than this, so parsing, checking and evaluating
/// recurse a bounded number of times whatever the input.
pub const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Question(String),
    Text(String),
    Number(i64),
    Word(String),
    Open,
    Close,
    Comma,
    Op(Compare),
}

pub fn parse(source: &str) -> Result<Expr, String> {
    if source.chars().count() > MAX_LEN {
        return Err(format!("is longer than {MAX_LEN} characters"));
    }
    let tokens = tokens(source)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("has {} where the expression should end", describe(token))),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Question(q) => format!("${{{q}}}"),
        Token::Text(t) => format!("'{t}'"),
        Token::Number(n) => n.to_string(),
        Token::Word(w) => format!("{w:?}"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
        Token::Op(op) => format!("{:?}", op.symbol()),
    }
}

fn tokens(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        i += 1;
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '=' => Token::Op(Compare::Eq),
            '!' if next == Some('=') => {
                i += 1;
                Token::Op(Compare::Ne)
            }
            '<' | '>' => {
                let or_equal = next == Some('=');
                i += usize::from(or_equal);
                Token::Op(match (c, or_equal) {
                    ('<', false) => Compare::Lt,
                    ('<', true) => Compare::Le,
                    ('>', false) => Compare::Gt,
                    _ => Compare::Ge,
                })
            }
            '$' if next == Some('{') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or("has a ${ without its }")?;
                let name: String = chars[i + 1..i + end].iter().collect();
                i += end + 1;
                Token::Question(name.trim().to_owned())
            }
            '\'' | '"' => {
                let end = chars[i..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or("has a quote that is never closed")?;
                let text = chars[i..i + end].iter().collect();
                i += end + 1;
                Token::Text(text)
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i - 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                Token::Number(
                    digits
                        .parse()
                        .map_err(|_| format!("has number {digits} out of range"))?,
                )
            }
            c if c.is_ascii_alphabetic() => {
                let start = i - 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '-')
                {
                    i += 1;
                }
                Token::Word(chars[start..i].iter().collect())
            }
            other => {
                return Err(format!(
                    "has {other:?}, which the expression language does not use"
                ));
            }
        };
        out.push(token);
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<Token, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("ends too soon")?;
        self.at += 1;
        Ok(token)
    }

    fn expect(&mut self, wanted: &Token) -> Result<(), String> {
        match self.next()? {
            token if token == *wanted => Ok(()),
            token => Err(format!(
                "has {} where {} should be",
                describe(&token),
                describe(wanted)
            )),
        }
    }

    fn word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.and()?];
        while self.word("or") {
            self.at += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.comparison()?];
        while self.word("and") {
            self.at += 1;
            terms.push(self.comparison()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        if let Some(Token::Op(op)) = self.peek() {
            let op = *op;
            self.at += 1;
            let right = self.operand()?;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(right)));
        }
        Ok(left)
    }

    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Result<Expr, String>) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nests deeper than {MAX_DEPTH} levels"));
        }
        self.expect(&Token::Open)?;
        let expr = inner(self)?;
        self.expect(&Token::Close)?;
        self.depth -= 1;
        Ok(expr)
    }

    fn question(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Question(q) => Ok(q),
            token => Err(format!(
                "has {} where a ${{question}} should be",
                describe(&token)
            )),
        }
    }

    fn operand(&mut self) -> Result<Expr, String> {
        match self.peek().cloned().ok_or("ends too soon")? {
            Token::Open => self.nested(Self::or),
            Token::Question(q) => {
                self.at += 1;
                Ok(Expr::Question(q))
            }
            Token::Text(t) => {
                self.at += 1;
                Ok(Expr::Text(t))
            }
            Token::Number(n) => {
                self.at += 1;
                Ok(Expr::Number(n))
            }
            Token::Word(w) => {
                self.at += 1;
                match w.as_str() {
                    "not" => self.nested(|p| Ok(Expr::Not(Box::new(p.or()?)))),
                    "selected" => self.nested(|p| {
                        let question = p.question()?;
                        p.expect(&Token::Comma)?;
                        match p.next()? {
                            Token::Text(option) => Ok(Expr::Selected(question, option)),
                            token => Err(format!(
                                "has {} where an option in quotes should be",
                                describe(&token)
                            )),
                        }
                    }),
                    "count-selected" => self.nested(|p| Ok(Expr::CountSelected(p.question()?))),
                    "true" | "false" => {
                        // XLSForm writes them as functions: true() and false().
                        self.nested(|_| Ok(Expr::Bool(w == "true")))
                    }
                    _ => Err(format!(
                        "uses {w:?}, which the expression language does not offer"
                    )),
                }
            }
            token => Err(format!("has {} where a value should be", describe(&token))),
        }
    }
}
