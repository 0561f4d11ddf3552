//! The same table as CSV: one row per cell, suppressed cells marked `suppressed`, never 0.

use super::table::{AggregateTable, OutputCell};

pub fn to_csv(table: &AggregateTable) -> String {
    let mut out = String::new();
    let header: Vec<String> = table
        .by
        .iter()
        .cloned()
        .chain(["n".into(), table.metric.clone()])
        .collect();
    push_row(&mut out, &header);
    for cell in &table.cells {
        let (key, rest) = match cell {
            OutputCell::Shown { key, n, value } => (key, vec![n.to_string(), value.to_string()]),
            OutputCell::Suppressed { key, .. } => (key, vec!["suppressed".into(), "suppressed".into()]),
        };
        let mut row: Vec<String> = table
            .by
            .iter()
            .map(|d| key.get(d).and_then(|v| v.as_str()).unwrap_or("").to_owned())
            .collect();
        row.extend(rest);
        push_row(&mut out, &row);
    }
    out
}

/// RFC 4180 quoting, and a leading apostrophe for anything a spreadsheet would run as a
/// formula.
fn push_row(out: &mut String, fields: &[String]) {
    let escaped: Vec<String> = fields
        .iter()
        .map(|field| {
            let field = if field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err() {
                format!("'{field}")
            } else {
                field.clone()
            };
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field
            }
        })
        .collect();
    out.push_str(&escaped.join(","));
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressed_cells_say_so_and_fields_are_quoted() {
        let key = |v: &str| serde_json::Map::from_iter([("area".to_string(), serde_json::Value::from(v))]);
        let table = AggregateTable {
            k: 11,
            by: vec!["area".into()],
            metric: "count".into(),
            max_adjustment: 2,
            cells: vec![
                OutputCell::Shown {
                    key: key("north, upper"),
                    n: 12,
                    value: 12.0,
                },
                OutputCell::Suppressed {
                    key: key("=cmd"),
                    suppressed: true,
                },
            ],
            suppressed: 1,
        };
        assert_eq!(
            to_csv(&table),
            "area,n,count\r\n\"north, upper\",12,12\r\n'=cmd,suppressed,suppressed\r\n"
        );
    }
}
