//! The selector tokenizer: names, strings, numbers and operators.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    Op(&'static str),
}

pub(super) fn describe(token: Option<&Token>) -> String {
    match token {
        None => "end of expression".to_string(),
        Some(Token::Name(n)) => n.clone(),
        Some(Token::Str(s)) => format!("{s:?}"),
        Some(Token::Int(i)) => i.to_string(),
        Some(Token::Float(f)) => f.to_string(),
        Some(Token::Op(op)) => (*op).to_string(),
    }
}

const OPERATORS: [&str; 14] = [
    "==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-",
];

pub(super) fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if let Ok(int) = text.parse::<i64>() {
                tokens.push(Token::Int(int));
            } else {
                let float = text
                    .parse::<f64>()
                    .map_err(|_| format!("bad number `{text}`"))?;
                tokens.push(Token::Float(float));
            }
        } else if c == '"' || c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string".to_string()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        if let Some(&next) = chars.get(i + 1) {
                            text.push(next);
                        }
                        i += 2;
                        continue;
                    }
                    Some(&other) => text.push(other),
                }
                i += 1;
            }
            i += 1;
            tokens.push(Token::Str(text));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("unexpected character `{c}`"))?;
            tokens.push(Token::Op(op));
            i += op.len();
        }
    }
    Ok(tokens)
}
