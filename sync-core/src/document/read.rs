//! Typed reads over Automerge maps. A map is read once into [`Fields`] (one pass of
//! `map_range`, far cheaper than a lookup per key), then checked field by field, each failure
//! naming the field.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use uuid::Uuid;

use crate::{Day, Error, Result};

pub(crate) struct Fields {
    entries: Vec<(String, Value<'static>, Option<ObjId>)>,
}

impl Fields {
    pub(crate) fn of(doc: &AutoCommit, obj: &ObjId) -> Fields {
        let entries = doc
            .map_range(obj, ..)
            .map(|item| {
                let id = matches!(item.value, automerge::ValueRef::Object(_)).then(|| item.id());
                let key = item.key.into_owned();
                match (item.value, id) {
                    // The JS library writes strings as collaborative text by default; its content
                    // is the string, so either form reads the same.
                    (automerge::ValueRef::Object(ObjType::Text), Some(id)) => {
                        (key, text_value(doc, &id), None)
                    }
                    (value, id) => (key, value.into_value(), id),
                }
            })
            .collect();
        Fields { entries }
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _, _)| k.as_str())
    }

    /// Fails on the first key outside `allowed`: the server never stores a field the schema
    /// does not define.
    pub(crate) fn only(&self, prefix: &str, allowed: &[&str]) -> Result<()> {
        match self.keys().find(|k| !allowed.contains(k)) {
            Some(key) => Err(Error::UndeclaredField(format!("{prefix}{}", crate::quoted(key)))),
            None => Ok(()),
        }
    }

    /// Checks that the map's `schema` is `expected`: a document of another kind or version is
    /// refused before anything else of it is read.
    pub(crate) fn schema_is(&self, expected: &'static str) -> Result<()> {
        let found = self.string("schema")?;
        if found != expected {
            return Err(Error::Schema {
                expected,
                found: crate::quoted(found),
            });
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&(String, Value<'static>, Option<ObjId>)> {
        self.entries.iter().find(|(k, _, _)| k == key)
    }

    pub(crate) fn scalar(&self, key: &str) -> Result<Option<&ScalarValue>> {
        match self.get(key) {
            None => Ok(None),
            Some((_, Value::Scalar(value), _)) => Ok(Some(value.as_ref())),
            Some(_) => Err(Error::FieldType {
                field: key.to_owned(),
                expected: "a plain value",
            }),
        }
    }

    pub(crate) fn required(&self, key: &str) -> Result<&ScalarValue> {
        self.scalar(key)?
            .ok_or_else(|| Error::MissingField(key.to_owned()))
    }

    pub(crate) fn string(&self, key: &str) -> Result<&str> {
        match self.required(key)? {
            ScalarValue::Str(s) => Ok(s.as_str()),
            _ => Err(Error::FieldType {
                field: key.to_owned(),
                expected: "text",
            }),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<i64> {
        let wrong = || Error::FieldType {
            field: key.to_owned(),
            expected: "a whole number",
        };
        whole_number(self.required(key)?).ok_or_else(wrong)
    }

    pub(crate) fn uuid(&self, key: &str) -> Result<Uuid> {
        Uuid::parse_str(self.string(key)?).map_err(|_| Error::FieldType {
            field: key.to_owned(),
            expected: "a uuid",
        })
    }

    pub(crate) fn day(&self, key: &str) -> Result<Day> {
        Day::parse(self.string(key)?)
    }

    /// The id of a nested object, checking its type.
    pub(crate) fn object(&self, key: &str, kind: ObjType) -> Result<Option<&ObjId>> {
        match self.get(key) {
            None => Ok(None),
            Some((_, Value::Object(found), Some(id))) if *found == kind => Ok(Some(id)),
            Some(_) => Err(Error::FieldType {
                field: key.to_owned(),
                expected: if kind == ObjType::List { "a list" } else { "a map" },
            }),
        }
    }

    pub(crate) fn required_object(&self, key: &str, kind: ObjType) -> Result<&ObjId> {
        self.object(key, kind)?
            .ok_or_else(|| Error::MissingField(key.to_owned()))
    }
}

/// A scalar read as a whole number. The JS library writes some whole numbers as `float64` (a
/// `0` inside an object literal), so a float that holds an exact whole number in the safe
/// integer range reads as that number; a fraction, NaN or an infinity does not.
pub(crate) fn whole_number(value: &ScalarValue) -> Option<i64> {
    /// 2^53 - 1: past it a float no longer tells neighbouring whole numbers apart.
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    match value {
        ScalarValue::Int(n) => Some(*n),
        ScalarValue::Uint(n) => i64::try_from(*n).ok(),
        ScalarValue::F64(x) if x.fract() == 0.0 && x.abs() <= MAX_SAFE => Some(*x as i64),
        _ => None,
    }
}

/// A text object's content as a plain string value.
pub(crate) fn text_value(doc: &AutoCommit, text: &ObjId) -> Value<'static> {
    Value::Scalar(std::borrow::Cow::Owned(ScalarValue::Str(
        doc.text(text).unwrap_or_default().into(),
    )))
}

/// The `schema` field of a document's root, to tell its kind.
pub(crate) fn schema(doc: &AutoCommit) -> Result<String> {
    match doc.get(automerge::ROOT, "schema")? {
        Some((Value::Object(ObjType::Text), id)) => Ok(doc.text(&id)?),
        Some((Value::Scalar(s), _)) => s.as_str().map(str::to_owned).ok_or_else(|| Error::FieldType {
            field: "schema".into(),
            expected: "text",
        }),
        Some(_) => Err(Error::FieldType {
            field: "schema".into(),
            expected: "text",
        }),
        None => Err(Error::MissingField("schema".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_float_reads_as_a_whole_number_only_when_it_is_one_exactly() {
        const MAX_SAFE: i64 = (1 << 53) - 1;
        for (value, read) in [
            (ScalarValue::F64(0.0), Some(0)),
            (ScalarValue::F64(-0.0), Some(0)),
            (ScalarValue::F64(-3.0), Some(-3)),
            (ScalarValue::F64(MAX_SAFE as f64), Some(MAX_SAFE)),
            (ScalarValue::F64(-MAX_SAFE as f64), Some(-MAX_SAFE)),
            (ScalarValue::F64(2f64.powi(53)), None),
            (ScalarValue::F64(0.5), None),
            (ScalarValue::F64(f64::NAN), None),
            (ScalarValue::F64(f64::INFINITY), None),
            (ScalarValue::F64(f64::NEG_INFINITY), None),
            (ScalarValue::Int(i64::MIN), Some(i64::MIN)),
            (ScalarValue::Uint(u64::MAX), None),
            (ScalarValue::counter(3), None),
            (ScalarValue::Timestamp(0), None),
        ] {
            assert_eq!(whole_number(&value), read, "{value:?}");
        }
    }
}
