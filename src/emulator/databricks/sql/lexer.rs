//! Splits Databricks SQL into tokens: words, backticked identifiers, string literals (single or
//! double quoted, with Spark's backslash escapes), numbers, symbols and `:name` parameter
//! markers. Comments and whitespace disappear; every token keeps its byte offset.

use super::error::SqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword or a plain identifier, as written.
    Word,
    /// A backticked identifier, unescaped.
    Quoted,
    /// A string literal, unescaped. Spark reads `"..."` as a string too.
    String,
    Number,
    /// Punctuation and operators, e.g. `(`, `,`, `<=>`, `::`.
    Symbol,
    /// A named parameter marker `:name`; the text is the name.
    Parameter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub text: String,
    /// Byte offsets of the token in the statement: `at..end`.
    pub at: usize,
    pub end: usize,
}

impl Token {
    pub fn word(text: &str) -> Token {
        Token {
            kind: Kind::Word,
            text: text.to_string(),
            at: 0,
            end: 0,
        }
    }

    pub fn string(text: &str) -> Token {
        Token {
            kind: Kind::String,
            text: text.to_string(),
            at: 0,
            end: 0,
        }
    }

    pub fn symbol(text: &str) -> Token {
        Token {
            kind: Kind::Symbol,
            text: text.to_string(),
            at: 0,
            end: 0,
        }
    }

    /// Whether this is the keyword `keyword` (any case). Backticked names are never keywords.
    pub fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    pub fn is_symbol(&self, symbol: &str) -> bool {
        self.kind == Kind::Symbol && self.text == symbol
    }

    /// A word or a backticked name: something that can name an object or a column.
    pub fn is_identifier(&self) -> bool {
        matches!(self.kind, Kind::Word | Kind::Quoted)
    }

    /// The token as Databricks would echo it in a syntax error.
    pub fn echo(&self) -> String {
        match self.kind {
            Kind::Quoted => format!("`{}`", self.text.replace('`', "``")),
            Kind::String => format!("'{}'", self.text),
            Kind::Parameter => format!(":{}", self.text),
            _ => self.text.clone(),
        }
    }
}

/// Longest first, so `<=>` wins over `<=` and `<`.
const SYMBOLS: &[&str] = &[
    "<=>", "<>", "!=", "<=", ">=", "==", "||", "::", "->", "=>", "(", ")", ",", ".", ";", "+", "-",
    "*", "/", "%", "=", "<", ">", "!", "&", "|", "^", "~", "[", "]", "{", "}", "?",
];

pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>, SqlError> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &sql[at..];
        let c = rest.chars().next().expect("not at the end");
        if c.is_whitespace() {
            at += c.len_utf8();
        } else if rest.starts_with("--") {
            at += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            at += block_comment(rest).ok_or_else(|| SqlError::syntax(None))?;
        } else if c == '\'' || c == '"' {
            let (value, length) = string(rest, c).ok_or_else(|| SqlError::syntax(None))?;
            tokens.push(token(Kind::String, value, at, at + length));
            at += length;
        } else if c == '`' {
            let (name, length) = backticked(rest).ok_or_else(|| SqlError::syntax(None))?;
            tokens.push(token(Kind::Quoted, name, at, at + length));
            at += length;
        } else if c.is_ascii_digit() || (c == '.' && starts_with_digit(&rest[1..])) {
            let length = number(rest);
            tokens.push(token(
                Kind::Number,
                rest[..length].to_string(),
                at,
                at + length,
            ));
            at += length;
        } else if c.is_alphabetic() || c == '_' {
            let length = word(rest);
            tokens.push(token(
                Kind::Word,
                rest[..length].to_string(),
                at,
                at + length,
            ));
            at += length;
        } else if c == ':' && !rest.starts_with("::") && word(&rest[1..]) > 0 {
            let length = 1 + word(&rest[1..]);
            tokens.push(token(
                Kind::Parameter,
                rest[1..length].to_string(),
                at,
                at + length,
            ));
            at += length;
        } else if let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            tokens.push(token(
                Kind::Symbol,
                symbol.to_string(),
                at,
                at + symbol.len(),
            ));
            at += symbol.len();
        } else {
            return Err(SqlError::syntax(Some(&c.to_string())));
        }
    }
    Ok(concatenate_strings(tokens))
}

/// Spark reads adjacent string literals as one (`'it''s'` is `its`), so they merge here.
fn concatenate_strings(tokens: Vec<Token>) -> Vec<Token> {
    let mut merged: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        match merged.last_mut() {
            Some(last) if last.kind == Kind::String && token.kind == Kind::String => {
                last.text.push_str(&token.text);
                last.end = token.end;
            }
            _ => merged.push(token),
        }
    }
    merged
}

fn token(kind: Kind, text: String, at: usize, end: usize) -> Token {
    Token {
        kind,
        text,
        at,
        end,
    }
}

fn starts_with_digit(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn word(text: &str) -> usize {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, c)) if c.is_alphabetic() || c == '_' => {}
        _ => return 0,
    }
    chars
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(text.len(), |(i, _)| i)
}

fn number(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if bytes.get(end) == Some(&b'.') {
        end += 1;
        end += bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        let digits = bytes[exponent.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            end = exponent + digits;
        }
    }
    end
}

/// Spark nests bracketed comments; returns the length including both delimiters.
fn block_comment(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        if rest.starts_with("/*") {
            depth += 1;
            at += 2;
        } else if rest.starts_with("*/") {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return Some(at);
            }
        } else {
            at += rest.chars().next()?.len_utf8();
        }
    }
    None
}

/// A quoted string with Spark's backslash escapes; returns the value and the length read.
fn string(text: &str, quote: char) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((value, i + 1));
        }
        if c != '\\' {
            value.push(c);
            continue;
        }
        let (_, escaped) = chars.next()?;
        value.push(match escaped {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            '0' => '\0',
            other => other,
        });
    }
    None
}

/// A backticked identifier; a doubled backtick stands for one.
fn backticked(text: &str) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c != '`' {
            name.push(c);
        } else if chars.peek().is_some_and(|(_, next)| *next == '`') {
            name.push('`');
            chars.next();
        } else {
            return Some((name, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, String)> {
        tokenize(sql)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn splits_words_names_strings_and_symbols() {
        let tokens = kinds("SELECT `a``b`, \"x\\\"y\", 'it\\'s' FROM t WHERE n <=> 1.5e3 -- c");
        let expected = [
            (Kind::Word, "SELECT"),
            (Kind::Quoted, "a`b"),
            (Kind::Symbol, ","),
            (Kind::String, "x\"y"),
            (Kind::Symbol, ","),
            (Kind::String, "it's"),
            (Kind::Word, "FROM"),
            (Kind::Word, "t"),
            (Kind::Word, "WHERE"),
            (Kind::Word, "n"),
            (Kind::Symbol, "<=>"),
            (Kind::Number, "1.5e3"),
        ];
        let expected: Vec<_> = expected.iter().map(|(k, t)| (*k, t.to_string())).collect();
        assert_eq!(tokens, expected);
    }

    #[test]
    fn tells_parameters_from_casts() {
        let tokens = kinds("x::int = :limit /* a /* nested */ comment */");
        assert_eq!(tokens[1], (Kind::Symbol, "::".to_string()));
        assert_eq!(tokens[4], (Kind::Parameter, "limit".to_string()));
        assert_eq!(tokens.len(), 5);
    }

    #[test]
    fn adjacent_strings_are_one_literal() {
        let tokens = kinds("SELECT 'it''s' 'x'");
        assert_eq!(tokens[1], (Kind::String, "itsx".to_string()));
    }

    #[test]
    fn refuses_unterminated_text() {
        assert!(tokenize("SELECT 'abc").is_err());
        assert!(tokenize("SELECT `abc").is_err());
        assert!(tokenize("SELECT /* abc").is_err());
    }
}
