//! Values in INI inventories, typed as Ansible types them: Python's `ast.literal_eval` (numbers,
//! quoted strings, `True`/`False`/`None`, lists, tuples, dicts), and the text itself when that
//! fails (`web`, `0755`, `/run/docker.sock`).

use serde_json::{Number, Value};

/// The value of `text` as Ansible's INI plugin reads it.
pub(crate) fn ini_value(text: &str) -> Value {
    literal(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

/// `ast.literal_eval(text)`, or `None` where Python would raise.
fn literal(text: &str) -> Option<Value> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = parser.value()?;
    parser.skip_blank();
    (parser.at == parser.chars.len()).then_some(value)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Whitespace, and a `#` comment to the end of the text.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                self.at = self.chars.len();
            } else if c.is_whitespace() {
                self.at += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_blank();
        match self.peek()? {
            '\'' | '"' => self.string(),
            '[' => self.sequence(']'),
            '(' => self.sequence(')'),
            '{' => self.dict(),
            '-' | '+' => {
                let negative = self.peek() == Some('-');
                self.at += 1;
                self.skip_blank();
                let number = self.number()?;
                if negative {
                    negate(&number)
                } else {
                    Some(number)
                }
            }
            c if c.is_ascii_digit() || c == '.' => self.number(),
            _ => self.name(),
        }
    }

    fn name(&mut self) -> Option<Value> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        match word.as_str() {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
        {
            // A sign belongs to the number only right after an exponent marker.
            if matches!(self.peek(), Some('+' | '-'))
                && !matches!(self.chars.get(self.at - 1), Some('e' | 'E'))
            {
                break;
            }
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        python_number(&word)
    }

    fn string(&mut self) -> Option<Value> {
        let quote = self.peek()?;
        self.at += 1;
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            self.at += 1;
            match c {
                c if c == quote => break,
                '\\' => {
                    let escaped = self.peek()?;
                    self.at += 1;
                    match escaped {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' | '\'' | '"' => out.push(escaped),
                        '\n' => {}
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                '\n' => return None,
                c => out.push(c),
            }
        }
        // Adjacent literals are one string in Python: 'a' 'b' is 'ab'.
        self.skip_blank();
        if matches!(self.peek(), Some('\'' | '"')) {
            let Value::String(rest) = self.string()? else {
                return None;
            };
            out.push_str(&rest);
        }
        Some(Value::String(out))
    }

    fn sequence(&mut self, close: char) -> Option<Value> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.peek()? == close {
                self.at += 1;
                return Some(Value::Array(items));
            }
            items.push(self.value()?);
            self.skip_blank();
            match self.peek()? {
                ',' => self.at += 1,
                c if c == close => {}
                _ => return None,
            }
        }
    }

    fn dict(&mut self) -> Option<Value> {
        self.at += 1;
        let mut entries = serde_json::Map::new();
        loop {
            self.skip_blank();
            if self.peek()? == '}' {
                self.at += 1;
                return Some(Value::Object(entries));
            }
            let key = match self.value()? {
                Value::String(text) => text,
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => if flag { "True" } else { "False" }.to_owned(),
                _ => return None,
            };
            self.skip_blank();
            if self.peek()? != ':' {
                return None;
            }
            self.at += 1;
            let value = self.value()?;
            entries.insert(key, value);
            self.skip_blank();
            match self.peek()? {
                ',' => self.at += 1,
                '}' => {}
                _ => return None,
            }
        }
    }
}

fn negate(number: &Value) -> Option<Value> {
    let Value::Number(number) = number else {
        return None;
    };
    if let Some(int) = number.as_i64() {
        return Some(Value::from(-int));
    }
    Number::from_f64(-number.as_f64()?).map(Value::Number)
}

/// A Python integer or float literal: `42`, `1_000`, `0x1F`, `0o17`, `0b101`, `1.5`, `1e3`, `.5`.
/// Decimal integers with a leading zero (`0755`) are a syntax error in Python.
fn python_number(word: &str) -> Option<Value> {
    if word.is_empty() || word.starts_with('_') || word.ends_with('_') || word.contains("__") {
        return None;
    }
    let digits = word.replace('_', "");
    let lower = digits.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return i64::from_str_radix(rest, radix).ok().map(Value::from);
        }
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
            return None;
        }
        return match digits.parse::<i64>() {
            Ok(int) => Some(Value::from(int)),
            Err(_) => digits.parse::<u64>().ok().map(Value::from),
        };
    }
    let is_float_text = lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        && lower.bytes().any(|b| b.is_ascii_digit());
    if !is_float_text {
        return None;
    }
    let float: f64 = lower.parse().ok()?;
    Number::from_f64(float).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn literals_are_typed_as_python_types_them() {
        let cases = [
            ("5", json!(5)),
            ("-5", json!(-5)),
            ("1_000", json!(1000)),
            ("0x1f", json!(31)),
            ("1e3", json!(1000.0)),
            ("2.5", json!(2.5)),
            ("True", json!(true)),
            ("None", json!(null)),
            ("'q'", json!("q")),
            (r#""a b""#, json!("a b")),
            ("[1, 'a']", json!([1, "a"])),
            ("(1,)", json!([1])),
            ("{'a': 1}", json!({"a": 1})),
            ("1 # comment", json!(1)),
        ];
        for (text, expected) in cases {
            assert_eq!(ini_value(text), expected, "{text}");
        }
    }

    #[test]
    fn anything_else_stays_text() {
        for text in [
            "0777",
            "true",
            "web01",
            "/run/docker.sock",
            "10.0.0.1",
            "1.2.3",
            "yes",
            "hello # c",
            "'open",
            "",
        ] {
            assert_eq!(ini_value(text), json!(text), "{text}");
        }
    }
}
