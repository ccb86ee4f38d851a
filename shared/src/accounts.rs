//! Account names, so that an alert says "prod-payments (111122223333)" rather than a number.
//!
//! `IAMWATCH_ACCOUNT_NAMES` holds inline JSON (text starting with `{` or `[`) or the path of a
//! JSON file, in any of these shapes:
//! - `{"111122223333": "prod-payments", "a1b2c3...": "ibm-prod"}`;
//! - `[{"id": "111122223333", "name": "prod-payments"}, ...]`;
//! - what `aws organizations list-accounts` prints (`{"Accounts": [{"Id": ..., "Name": ...}]}`),
//!   saved as it is.
//!
//! AWS account ids are twelve digits; IBM account ids are 32 hexadecimal digits. Anything else
//! is refused at start, naming the entry, as is an empty name or an id named twice.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Names of accounts by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNames {
    names: BTreeMap<String, String>,
}

/// Why an account-name setting is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesError(pub String);

impl fmt::Display for NamesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NamesError {}

fn is_account_id(id: &str) -> bool {
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl AccountNames {
    /// The names a setting gives: inline JSON, or the JSON file it names.
    pub fn from_setting(value: &str) -> Result<Self, NamesError> {
        let value = value.trim();
        if value.starts_with('{') || value.starts_with('[') {
            return Self::parse(value);
        }
        let text = std::fs::read_to_string(value)
            .map_err(|e| NamesError(format!("cannot read {value:?}: {e}")))?;
        Self::parse(&text).map_err(|e| NamesError(format!("{value}: {e}")))
    }

    /// The names in `text` (see the module's documentation for the shapes).
    pub fn parse(text: &str) -> Result<Self, NamesError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            NamesError(format!(
                "not valid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        let mut names = AccountNames::default();
        match &doc {
            Value::Object(m) if m.contains_key("Accounts") => {
                let Some(list) = m["Accounts"].as_array() else {
                    return Err(NamesError("Accounts: expected an array".into()));
                };
                for (i, a) in list.iter().enumerate() {
                    names.entry(a, &format!("Accounts[{i}]"), "Id", "Name")?;
                }
            }
            Value::Object(m) => {
                for (id, name) in m {
                    let Some(name) = name.as_str() else {
                        return Err(NamesError(format!(
                            "{id}: expected the account's name, a string"
                        )));
                    };
                    names.add(id, name, id)?;
                }
            }
            Value::Array(list) => {
                for (i, a) in list.iter().enumerate() {
                    names.entry(a, &format!("[{i}]"), "id", "name")?;
                }
            }
            _ => {
                return Err(NamesError(
                    "expected an object of names by account id, or a list of {\"id\", \"name\"}"
                        .into(),
                ))
            }
        }
        Ok(names)
    }

    fn entry(&mut self, a: &Value, at: &str, id: &str, name: &str) -> Result<(), NamesError> {
        match (
            a.get(id).and_then(Value::as_str),
            a.get(name).and_then(Value::as_str),
        ) {
            (Some(i), Some(n)) => self.add(i, n, at),
            _ => Err(NamesError(format!(
                "{at}: expected an object with \"{id}\" and \"{name}\" (strings)"
            ))),
        }
    }

    fn add(&mut self, id: &str, name: &str, at: &str) -> Result<(), NamesError> {
        if !is_account_id(id) {
            return Err(NamesError(format!(
                "{at}: {id:?} is not an account id (12 digits for AWS, 32 hexadecimal digits for IBM Cloud)"
            )));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(NamesError(format!("{at}: the name of {id} is empty")));
        }
        if self
            .names
            .insert(id.to_string(), name.to_string())
            .is_some()
        {
            return Err(NamesError(format!("{at}: {id} is named twice")));
        }
        Ok(())
    }

    /// The names of `(id, name)` pairs, checked as a setting's are.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, NamesError> {
        let mut names = AccountNames::default();
        for (id, name) in pairs {
            names.add(&id, &name, &id)?;
        }
        Ok(names)
    }

    /// Adds the names of `other` that this map does not have (a setting's names win over
    /// what an organization lists).
    pub fn merge(&mut self, other: AccountNames) {
        for (id, name) in other.names {
            self.names.entry(id).or_insert(name);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The name of account `id`, when it has one.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }

    /// `prod-payments (111122223333)`, or the id alone when it has no name.
    pub fn label(&self, id: &str) -> String {
        match self.name(id) {
            Some(n) => format!("{n} ({id})"),
            None => id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape() {
        let ibm = "0123456789abcdef0123456789abcdef";
        for text in [
            format!(r#"{{"111122223333": "prod-payments", "{ibm}": "ibm-prod"}}"#),
            format!(
                r#"[{{"id": "111122223333", "name": "prod-payments"}}, {{"id": "{ibm}", "name": "ibm-prod"}}]"#
            ),
            format!(
                r#"{{"Accounts": [{{"Id": "111122223333", "Arn": "arn:aws:organizations::1:account/o-1/111122223333", "Name": "prod-payments", "Status": "ACTIVE"}}, {{"Id": "{ibm}", "Name": "ibm-prod"}}]}}"#
            ),
        ] {
            let names = AccountNames::parse(&text).unwrap();
            assert_eq!(names.len(), 2);
            assert_eq!(names.label("111122223333"), "prod-payments (111122223333)");
            assert_eq!(names.name(ibm), Some("ibm-prod"));
            assert_eq!(names.label("444455556666"), "444455556666");
        }
    }

    #[test]
    fn refusals_name_the_entry() {
        for (text, says) in [
            (
                r#"{"11112222333": "short"}"#,
                "\"11112222333\" is not an account id",
            ),
            (
                r#"{"111122223333": ""}"#,
                "the name of 111122223333 is empty",
            ),
            (
                r#"{"111122223333": 7}"#,
                "111122223333: expected the account's name",
            ),
            (
                r#"[{"id": "111122223333", "name": "a"}, {"id": "111122223333", "name": "b"}]"#,
                "[1]: 111122223333 is named twice",
            ),
            (
                r#"[{"Id": "111122223333"}]"#,
                "[0]: expected an object with \"id\" and \"name\"",
            ),
            (r#"{"Accounts": {}}"#, "Accounts: expected an array"),
            ("\"x\"", "expected an object of names"),
            ("{", "not valid JSON at line 1"),
        ] {
            let e = AccountNames::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        let e = AccountNames::from_setting("/nonexistent/names.json").unwrap_err();
        assert!(
            e.0.contains("cannot read \"/nonexistent/names.json\""),
            "{e}"
        );
    }

    #[test]
    fn a_setting_wins_over_an_organization() {
        let mut set = AccountNames::parse(r#"{"111122223333": "payments"}"#).unwrap();
        set.merge(
            AccountNames::parse(r#"{"111122223333": "Payments Prod", "444455556666": "tools"}"#)
                .unwrap(),
        );
        assert_eq!(set.name("111122223333"), Some("payments"));
        assert_eq!(set.name("444455556666"), Some("tools"));
    }
}
