//! Generic value types for reading recipe YAML with serde-saphyr: a scalar kept as the
//! text written, a one-or-many list, conda-build's loose booleans, and structs whose
//! repeated keys resolve last-wins.
//!
//! They exist because a recipe's types are loose (`source:` is a mapping or a list,
//! `url:` a string or a list) while serde's untagged enums would buffer values and lose
//! the text of numbers (`1.10` → `1.1`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Implements `Deserialize` for a struct of `Option` fields read from a mapping in which
/// a repeated key replaces the earlier value. Derived structs reject repeats when they
/// are reached through `deserialize_any` (as the one-or-many wrappers do), and after
/// selector filtering repeats are normal (`sha256:` once per platform).
macro_rules! last_wins_fields {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a mapping (", stringify!($name), ")"))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$name, E> {
                        Ok($name::default())
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<Scalar>()? {
                            match key.text() {
                                $(stringify!($field) => out.$field = map.next_value()?,)*
                                _ => {
                                    map.next_value::<de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
    };
}

pub(super) use last_wins_fields;

/// A field that may be one item or a list of items (`source:`, `url:`, a section);
/// null list items (left by selectors) are dropped.
#[derive(Debug)]
pub(super) struct OneOrMany<T>(pub(super) Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Option<T>>()? {
                    items.extend(item);
                }
                Ok(OneOrMany(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| OneOrMany(vec![t]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                self.visit_str(if v { "true" } else { "false" })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A scalar kept as the text written in the YAML (numbers are not reinterpreted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scalar(String);

impl Scalar {
    /// The scalar's text.
    pub(super) fn text(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(if v { "True" } else { "False" }.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A boolean the way conda-build reads `build/skip`: YAML booleans, `y/yes/on/true`
/// and `n/no/off/false` strings; any other non-empty string is true (Python truthiness).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Flag(pub(super) bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                let lower = v.trim().to_ascii_lowercase();
                Ok(Flag(match lower.as_str() {
                    "y" | "yes" | "on" | "true" => true,
                    "n" | "no" | "off" | "false" | "" => false,
                    _ => true,
                }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Flag, E> {
                Ok(Flag(v != 0.0))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_none<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Doc {
        text: Option<Scalar>,
        list: Option<OneOrMany<Scalar>>,
        flag: Option<Flag>,
    }

    fn doc(yaml: &str) -> Doc {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn texts(list: Option<OneOrMany<Scalar>>) -> Vec<String> {
        list.map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default()
    }

    #[test]
    fn scalar_keeps_the_text_of_numbers() {
        assert_eq!(doc("text: 1.10\n").text.unwrap().text(), "1.10");
        assert_eq!(doc("text: 007\n").text.unwrap().text(), "007");
    }

    #[test]
    fn one_or_many_reads_a_single_value_or_a_list_without_nulls() {
        assert_eq!(texts(doc("list: a\n").list), ["a"]);
        assert_eq!(
            texts(doc("list:\n  - a\n  -\n  - 1.10\n").list),
            ["a", "1.10"]
        );
        assert!(texts(doc("list:\n").list).is_empty());
    }

    macro_rules! flag_case {
        ($($test:ident: $yaml:expr => $expected:expr;)*) => {$(
            #[test]
            fn $test() {
                assert_eq!(doc($yaml).flag.map(|f| f.0), $expected);
            }
        )*};
    }

    flag_case! {
        yaml_true_is_true: "flag: true\n" => Some(true);
        python_true_is_true: "flag: True\n" => Some(true);
        yes_string_is_true: "flag: 'yes'\n" => Some(true);
        off_string_is_false: "flag: 'off'\n" => Some(false);
        other_text_is_truthy: "flag: maybe\n" => Some(true);
        zero_is_false: "flag: 0\n" => Some(false);
        empty_is_absent: "flag:\n" => None;
    }
}
