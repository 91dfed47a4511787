//! The rules every function's input keeps (ids, names, free text, levels), without HTTP: a
//! broken rule is an [`Invalid`], which the API answers as a 400 (`http`).

/// Input that breaks a rule, said so that whoever sent it can put it right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// A field that is empty, too long, or holds characters it may not.
    #[error("{0}")]
    Field(String),
    /// A number outside its range.
    #[error("{0}")]
    Quantity(String),
}

/// Ids are 1 to `max` characters of `A-Z a-z 0-9 . _ ~ -` (URL-safe as they are): longer ones
/// cannot exist, and would be refused as keys by DynamoDB (a 500 otherwise); and no two ids that
/// look alike (a zero-width space, a right-to-left mark, a full-width letter) name two customers.
pub fn check_id(name: &str, value: &str, max: usize) -> Result<(), Invalid> {
    check_text(name, value, max)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-'))
    {
        return Err(Invalid::Field(format!(
            "{name} may hold only letters A-Z and a-z, digits and . _ ~ -"
        )));
    }
    Ok(())
}

/// Checks the name of something the operator stocks (a stock item, an ingredient): 1 to 64
/// letters, digits, '-' and '_', so it is safe in a key and a path.
pub fn check_name(field: &str, name: &str) -> Result<(), Invalid> {
    check_text(field, name, 64)?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Invalid::Field(format!(
            "{field} may hold only letters, digits, '-' and '_'"
        )));
    }
    Ok(())
}

/// Checks a level the operator sets (cups, an ingredient): a whole number from 0 to `max`.
pub fn check_level(qty: i64, max: i64) -> Result<u32, Invalid> {
    if (0..=max).contains(&qty) {
        Ok(qty as u32)
    } else {
        Err(Invalid::Quantity(format!("qty must be from 0 to {max}, not {qty}")))
    }
}

/// Checks a free-text field: present, not blank, at most `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(Invalid::Field(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(Invalid::Field(format!("{field} is longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::Field(format!("{field} must not contain control characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_bounded() {
        assert!(check_text("customerId", "1", 64).is_ok());
        assert!(check_text("customerId", "  ", 64).is_err());
        assert!(check_text("customerId", &"é".repeat(65), 64).is_err());
        assert!(check_text("customerId", "a\u{0}b", 64).is_err());
    }

    #[test]
    fn ids_that_look_alike_are_refused() {
        for id in ["alice", "rush-12", "o_1.2~x", "550e8400-e29b-41d4-a716-446655440000"] {
            assert!(check_id("customerId", id, 64).is_ok(), "{id}");
        }
        // A zero-width space, a right-to-left override, full-width letters, a Cyrillic "а".
        for id in [
            "ali\u{200b}ce",
            "\u{202e}ecila",
            "ａｌｉｃｅ",
            "\u{430}lice",
            "a b",
            "a/b",
            "a%2Fb",
        ] {
            assert!(
                matches!(check_id("customerId", id, 64), Err(Invalid::Field(_))),
                "{id:?}"
            );
        }
        assert!(check_id("customerId", &"a".repeat(65), 64).is_err());
    }
}
