//! Small typed readers over Automerge maps, each failing with the field it was reading.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use uuid::Uuid;

use crate::{Day, Error, Result};

pub(crate) fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<ScalarValue>> {
    match doc.get(obj, key)? {
        None => Ok(None),
        Some((Value::Scalar(value), _)) => Ok(Some(value.into_owned())),
        Some((Value::Object(_), _)) => Err(Error::FieldType {
            field: key.to_owned(),
            expected: "a plain value",
        }),
    }
}

pub(crate) fn required(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ScalarValue> {
    scalar(doc, obj, key)?.ok_or_else(|| Error::MissingField(key.to_owned()))
}

pub(crate) fn string(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<String> {
    match required(doc, obj, key)? {
        ScalarValue::Str(s) => Ok(s.to_string()),
        _ => Err(Error::FieldType {
            field: key.to_owned(),
            expected: "text",
        }),
    }
}

pub(crate) fn int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<i64> {
    match required(doc, obj, key)? {
        ScalarValue::Int(n) => Ok(n),
        ScalarValue::Uint(n) => i64::try_from(n).map_err(|_| Error::FieldType {
            field: key.to_owned(),
            expected: "a whole number",
        }),
        _ => Err(Error::FieldType {
            field: key.to_owned(),
            expected: "a whole number",
        }),
    }
}

pub(crate) fn uuid(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Uuid> {
    let text = string(doc, obj, key)?;
    Uuid::parse_str(&text).map_err(|_| Error::FieldType {
        field: key.to_owned(),
        expected: "a uuid",
    })
}

pub(crate) fn day(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Day> {
    Day::parse(&string(doc, obj, key)?)
}

/// The id of a nested object, checking its type.
pub(crate) fn object(doc: &AutoCommit, obj: &ObjId, key: &str, kind: ObjType) -> Result<Option<ObjId>> {
    match doc.get(obj, key)? {
        None => Ok(None),
        Some((Value::Object(found), id)) if found == kind => Ok(Some(id)),
        Some(_) => Err(Error::FieldType {
            field: key.to_owned(),
            expected: if kind == ObjType::List { "a list" } else { "a map" },
        }),
    }
}

/// Fails on the first key of `obj` outside `allowed`: the server never stores a field the
/// schema does not define.
pub(crate) fn only_keys(doc: &AutoCommit, obj: &ObjId, prefix: &str, allowed: &[&str]) -> Result<()> {
    match doc.keys(obj).find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(Error::UndeclaredField(format!(
            "{prefix}{}",
            key.chars().take(80).collect::<String>()
        ))),
        None => Ok(()),
    }
}
