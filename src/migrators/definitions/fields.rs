//! The keys of one definition file, with their lines, handed out to the code that reads
//! them; whatever no one asked for is an unknown key.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::{DefinitionError, DefinitionErrorKind, Folder};

/// The keys of one definition file with their lines, handed out one by one. Whatever no
/// one asked for is an unknown key; every problem is collected, not just the first.
pub(crate) struct Fields<'a> {
    folder: &'a Folder<'a>,
    file: PathBuf,
    entries: Vec<Field>,
    asked: Vec<&'static str>,
    errors: Vec<DefinitionError>,
}

struct Field {
    key: String,
    line: Option<usize>,
    value: Value,
    taken: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn parse(
        folder: &'a Folder<'a>,
        file: PathBuf,
        text: &str,
    ) -> Result<Fields<'a>, DefinitionError> {
        let error = |line: Option<usize>, kind| DefinitionError {
            file: file.clone(),
            line,
            key: None,
            kind,
        };
        let root: Option<Spanned<TopLevel>> = serde_saphyr::from_str(text).map_err(|e| {
            error(
                e.location().and_then(|l| usize::try_from(l.line()).ok()),
                DefinitionErrorKind::NotYaml {
                    message: e.to_string(),
                },
            )
        })?;
        let entries = match root.map(|r| r.value) {
            Some(TopLevel::Map(entries)) => entries,
            None | Some(TopLevel::Other) => {
                return Err(error(Some(1), DefinitionErrorKind::NotAMapping));
            }
        };
        Ok(Fields {
            folder,
            file,
            entries: entries
                .into_iter()
                .map(|(key, value)| Field {
                    line: usize::try_from(key.referenced.line())
                        .ok()
                        .filter(|l| *l > 0),
                    key: key.value,
                    value: value.value,
                    taken: false,
                })
                .collect(),
            asked: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// The value of an optional key, typed; `None` when absent or invalid (recorded).
    pub(crate) fn take<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        self.asked.push(key);
        let index = self.entries.iter().position(|f| f.key == key)?;
        let field = &mut self.entries[index];
        field.taken = true;
        match serde_json::from_value::<T>(field.value.clone()) {
            Ok(value) => Some(value),
            Err(e) => {
                let message = format!("{e} (found {})", field.value);
                self.invalid(key, message);
                None
            }
        }
    }

    /// The value of a required key; a missing key is recorded.
    pub(crate) fn require<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        let present = self.entries.iter().any(|f| f.key == key);
        if !present {
            self.asked.push(key);
            self.fail(key, DefinitionErrorKind::MissingKey);
            return None;
        }
        self.take(key)
    }

    /// Records an invalid value of `key`.
    pub(crate) fn invalid(&mut self, key: &str, message: String) {
        self.fail(key, DefinitionErrorKind::Invalid { message });
    }

    pub(super) fn fail(&mut self, key: &str, kind: DefinitionErrorKind) {
        let line = self
            .entries
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.line);
        self.errors.push(DefinitionError {
            file: self.file.clone(),
            line,
            key: Some(key.to_string()),
            kind,
        });
    }

    /// A data file named by `key` (relative to the definitions folder), or `None` with
    /// the problem recorded. Errors inside the data file are reported against it with
    /// [`Fields::data_error`].
    pub(crate) fn read_data(&mut self, key: &'static str, relative: &str) -> Option<String> {
        match self.folder.read(relative) {
            Ok(text) => Some(text),
            Err(message) => {
                self.invalid(key, format!("cannot read `{relative}`: {message}"));
                None
            }
        }
    }

    /// Records a problem at a line of a data file named by the definition.
    pub(crate) fn data_error(&mut self, relative: &str, line: usize, message: String) {
        self.errors.push(DefinitionError {
            file: self.folder.display_path(relative),
            line: Some(line),
            key: None,
            kind: DefinitionErrorKind::Invalid { message },
        });
    }

    /// Marks every key as read: the kind is unknown, so no key is "unknown".
    pub(super) fn ignore_rest(&mut self) {
        for field in &mut self.entries {
            field.taken = true;
        }
    }

    /// Every problem, unknown keys included; `Ok` when there is none.
    pub(super) fn finish(&mut self) -> Result<(), Vec<DefinitionError>> {
        let mut valid: Vec<String> = self.asked.iter().map(|k| k.to_string()).collect();
        valid.sort();
        valid.dedup();
        for field in self.entries.iter().filter(|f| !f.taken) {
            self.errors.push(DefinitionError {
                file: self.file.clone(),
                line: field.line,
                key: Some(field.key.clone()),
                kind: DefinitionErrorKind::UnknownKey {
                    valid: valid.clone(),
                },
            });
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }

    /// A kind constructor returned nothing without recording why (a bug in that kind).
    pub(super) fn internal(&self) -> DefinitionError {
        DefinitionError {
            file: self.file.clone(),
            line: None,
            key: None,
            kind: DefinitionErrorKind::Invalid {
                message: "internal error: the definition was rejected without a reason".to_string(),
            },
        }
    }
}

/// The top level of a definition file: a mapping whose keys remember their line, or
/// anything else (an error).
enum TopLevel {
    Map(Vec<(Spanned<String>, Spanned<Value>)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            entries.push((key, value));
        }
        Ok(TopLevel::Map(entries))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
}
