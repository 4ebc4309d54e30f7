//! Help Scout's search syntax: `field:"value"` clauses with `AND`, `OR`,
//! `NOT` and parentheses, and value lists `field:("a" OR "b")`.

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `field:value` (any of the values).
    Term(String, Vec<String>),
    /// `a AND b`: both hold.
    And(Box<Query>, Box<Query>),
    /// `a OR b`: at least one holds.
    Or(Box<Query>, Box<Query>),
    /// `NOT a`: it does not hold.
    Not(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Word(String),
    Quoted(String),
    Colon,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '"' => {
                let start = i + 1;
                let end = chars[start..].iter().position(|c| *c == '"').ok_or("unterminated quote")? + start;
                out.push(Tok::Quoted(chars[start..end].iter().collect()));
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '(' | ')' | ':' | '"') {
                    i += 1;
                }
                let w: String = chars[start..i].iter().collect();
                out.push(match w.as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => Tok::Word(w),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Query, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Query::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Query, String> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    left = Query::And(Box::new(left), Box::new(self.unary()?));
                }
                Some(Tok::Open | Tok::Word(_) | Tok::Not) => left = Query::And(Box::new(left), Box::new(self.unary()?)),
                _ => return Ok(left),
            }
        }
    }
    fn unary(&mut self) -> Result<Query, String> {
        match self.next() {
            Some(Tok::Not) => Ok(Query::Not(Box::new(self.unary()?))),
            Some(Tok::Open) => {
                let q = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(q),
                    _ => Err("missing )".into()),
                }
            }
            Some(Tok::Word(field)) => {
                if self.next() != Some(Tok::Colon) {
                    return Err(format!("expected `:` after {field}"));
                }
                Ok(Query::Term(field, self.values()?))
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
    fn values(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Tok::Quoted(v) | Tok::Word(v)) => Ok(vec![v]),
            Some(Tok::Open) => {
                let mut vals = Vec::new();
                loop {
                    match self.next() {
                        Some(Tok::Quoted(v) | Tok::Word(v)) => vals.push(v),
                        Some(Tok::Or) => {}
                        Some(Tok::Close) => return Ok(vals),
                        other => return Err(format!("unexpected {other:?} in value list")),
                    }
                }
            }
            other => Err(format!("expected a value, got {other:?}")),
        }
    }
}

/// Parses a query string; `Err` carries a message for a 400.
pub fn parse(s: &str) -> Result<Query, String> {
    let mut p = Parser { toks: lex(s)?, pos: 0 };
    let q = p.or()?;
    if p.pos < p.toks.len() {
        return Err("trailing input in query".into());
    }
    Ok(q)
}

impl Query {
    /// Evaluates with `term(field, value) -> bool`.
    pub fn eval(&self, term: &dyn Fn(&str, &str) -> Result<bool, String>) -> Result<bool, String> {
        Ok(match self {
            Query::Term(f, vals) => {
                let mut any = false;
                for v in vals {
                    any |= term(f, v)?;
                }
                any
            }
            Query::And(a, b) => a.eval(term)? && b.eval(term)?,
            Query::Or(a, b) => a.eval(term)? || b.eval(term)?,
            Query::Not(a) => !a.eval(term)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_examples() {
        let q = parse(r#"phone:"+15555550123" OR background:"VIP""#).unwrap_or(Query::Not(Box::new(Query::Term(String::new(), vec![]))));
        assert!(matches!(q, Query::Or(_, _)));
        assert_eq!(parse("(customerIds:123)"), Ok(Query::Term("customerIds".into(), vec!["123".into()])));
        assert_eq!(parse(r#"email:("a@x.com" OR "b@x.com")"#), Ok(Query::Term("email".into(), vec!["a@x.com".into(), "b@x.com".into()])));
        assert!(parse("phone:").is_err());
    }
}
