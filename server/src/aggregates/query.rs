//! The aggregate query an analyst asks, parsed and checked against the form before any data
//! is read: free text can never be a dimension, a filter or a metric.

use sync_core::{Day, Form, QuestionKind};

use super::AggregateError;

pub const MAX_DIMENSIONS: usize = 3;
/// Dimensions, filters and a date window together: each one more lets a query carve a smaller
/// group out of the data, and the averaging attack needs many carvings of the same group.
pub const MAX_VARIABLES: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Dimension {
    Area,
    Week,
    Month,
    Question(String),
}

impl Dimension {
    pub fn name(&self) -> &str {
        match self {
            Dimension::Area => "area",
            Dimension::Week => "week",
            Dimension::Month => "month",
            Dimension::Question(q) => q,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    Count,
    /// Mean of a form score (reverse items flipped) or of one likert item.
    Mean(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub dimension: Dimension,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateQuery {
    pub by: Vec<Dimension>,
    pub filters: Vec<Filter>,
    pub from: Option<Day>,
    pub to: Option<Day>,
    pub metric: Metric,
    /// `review=approved`: only responses a supervisor approved (and nobody edited since).
    pub approved_only: bool,
}

impl AggregateQuery {
    /// Parses the query-string pairs other than `form`, checking every name against `form`.
    pub fn parse(form: &Form, pairs: &[(String, String)]) -> Result<AggregateQuery, AggregateError> {
        let mut by = None;
        let mut filters = Vec::new();
        let (mut from, mut to, mut metric) = (None, None, Metric::Count);
        let mut approved_only = false;
        for (key, value) in pairs {
            match key.as_str() {
                "form" => {}
                "by" => {
                    let names: Vec<&str> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect();
                    if names.is_empty() || names.len() > MAX_DIMENSIONS {
                        return Err(AggregateError::BadQuery(format!(
                            "`by` takes 1 to {MAX_DIMENSIONS} dimensions"
                        )));
                    }
                    let dims = names
                        .iter()
                        .map(|n| dimension(form, n))
                        .collect::<Result<Vec<_>, _>>()?;
                    if dims.iter().enumerate().any(|(i, d)| dims[..i].contains(d)) {
                        return Err(AggregateError::BadQuery(
                            "a dimension is named twice in `by`".into(),
                        ));
                    }
                    by = Some(dims);
                }
                "where" => {
                    let (name, wanted) = value
                        .split_once('=')
                        .ok_or_else(|| AggregateError::BadQuery("`where` takes question=value".into()))?;
                    filters.push(Filter {
                        dimension: dimension(form, name.trim())?,
                        value: wanted.trim().to_owned(),
                    });
                }
                "from" => from = Some(day(value)?),
                "to" => to = Some(day(value)?),
                "metric" => metric = parse_metric(form, value)?,
                "review" if value == "approved" => approved_only = true,
                "review" => {
                    return Err(AggregateError::BadQuery(
                        "`review` takes approved: aggregates of approved responses only".into(),
                    ));
                }
                other => {
                    return Err(AggregateError::BadQuery(format!(
                        "unknown parameter {:?}",
                        sync_core::quoted(other)
                    )));
                }
            }
        }
        let by = by.ok_or_else(|| AggregateError::BadQuery("`by` is required".into()))?;
        // Restricting to approved responses carves a group like any filter does.
        let window = usize::from(from.is_some() || to.is_some());
        if by.len() + filters.len() + window + usize::from(approved_only) > MAX_VARIABLES {
            return Err(AggregateError::BadQuery(format!(
                "a query combines at most {MAX_VARIABLES} dimensions, filters, date windows and review=approved"
            )));
        }
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(AggregateError::BadQuery("`from` is after `to`".into()));
        }
        Ok(AggregateQuery {
            by,
            filters,
            from,
            to,
            metric,
            approved_only,
        })
    }
}

fn dimension(form: &Form, name: &str) -> Result<Dimension, AggregateError> {
    Ok(match name {
        "area" => Dimension::Area,
        "week" => Dimension::Week,
        "month" => Dimension::Month,
        _ => {
            let question = form
                .question(name)
                .map_err(|_| AggregateError::UnknownDimension(sync_core::quoted(name)))?;
            match question.kind {
                QuestionKind::Text { .. } => return Err(AggregateError::FreeText(sync_core::quoted(name))),
                QuestionKind::Date => return Err(AggregateError::UnknownDimension(sync_core::quoted(name))),
                _ => Dimension::Question(name.to_owned()),
            }
        }
    })
}

fn parse_metric(form: &Form, text: &str) -> Result<Metric, AggregateError> {
    if text == "count" {
        return Ok(Metric::Count);
    }
    let Some(name) = text.strip_prefix("mean:") else {
        return Err(AggregateError::UnknownMetric(sync_core::quoted(text)));
    };
    if form.score(name).is_some() {
        return Ok(Metric::Mean(name.to_owned()));
    }
    match form.question(name).map(|q| &q.kind) {
        Ok(QuestionKind::Likert { .. }) => Ok(Metric::Mean(name.to_owned())),
        Ok(QuestionKind::Text { .. }) => Err(AggregateError::FreeText(sync_core::quoted(name))),
        _ => Err(AggregateError::UnknownMetric(sync_core::quoted(text))),
    }
}

fn day(text: &str) -> Result<Day, AggregateError> {
    Day::parse(text).map_err(|e| AggregateError::BadQuery(e.to_string()))
}
