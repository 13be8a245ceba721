//! A typed `searchCriteria`: what Magento's GET list endpoints take in the query string.
//!
//! Filters inside one [`FilterGroup`] are ORed; groups are ANDed (so `(A AND B) OR (X AND Y)`
//! cannot be said, as in Magento). Encoding is PHP's bracket form:
//! `searchCriteria[filter_groups][0][filters][0][field]=updated_at`, and [`SearchCriteria::parse`]
//! reads it back (the fake store uses it; the round trip is tested).
//!
//! Paging: Magento answers a `currentPage` past the last page with the **last page again**, not
//! an empty list, so a client must stop by `total_count` ([`pages`]), never by an empty page.

use std::collections::BTreeMap;
use std::fmt;

/// Every condition type Magento's SQL filter builder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Eq,
    Finset,
    From,
    Gt,
    Gteq,
    In,
    Like,
    Lt,
    Lteq,
    Moreq,
    Neq,
    Nfinset,
    Nin,
    Nlike,
    Notnull,
    Null,
    To,
}

impl Condition {
    pub const ALL: [Condition; 17] = [
        Condition::Eq,
        Condition::Finset,
        Condition::From,
        Condition::Gt,
        Condition::Gteq,
        Condition::In,
        Condition::Like,
        Condition::Lt,
        Condition::Lteq,
        Condition::Moreq,
        Condition::Neq,
        Condition::Nfinset,
        Condition::Nin,
        Condition::Nlike,
        Condition::Notnull,
        Condition::Null,
        Condition::To,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Eq => "eq",
            Condition::Finset => "finset",
            Condition::From => "from",
            Condition::Gt => "gt",
            Condition::Gteq => "gteq",
            Condition::In => "in",
            Condition::Like => "like",
            Condition::Lt => "lt",
            Condition::Lteq => "lteq",
            Condition::Moreq => "moreq",
            Condition::Neq => "neq",
            Condition::Nfinset => "nfinset",
            Condition::Nin => "nin",
            Condition::Nlike => "nlike",
            Condition::Notnull => "notnull",
            Condition::Null => "null",
            Condition::To => "to",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One condition on one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    /// For `in`/`nin` a comma-separated list; for `like` SQL wildcards (`%`); ignored by
    /// `null`/`notnull`.
    pub value: String,
    pub condition: Condition,
}

impl Filter {
    pub fn new(field: impl Into<String>, condition: Condition, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: value.into(),
            condition,
        }
    }

    /// `in` / `nin` over several values.
    pub fn any_of<I, S>(field: impl Into<String>, condition: Condition, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = values
            .into_iter()
            .map(|v| v.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        Self::new(field, condition, joined)
    }
}

/// Filters ORed together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterGroup(pub Vec<Filter>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortOrder {
    pub field: String,
    pub direction: Direction,
}

/// A whole search: groups ANDed, sort orders applied in turn, a page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchCriteria {
    pub groups: Vec<FilterGroup>,
    pub sort: Vec<SortOrder>,
    pub page_size: Option<u32>,
    pub current_page: Option<u32>,
}

/// A `searchCriteria` query string that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("searchCriteria parameter `{param}`: {message}")]
pub struct ParseError {
    pub param: String,
    pub message: String,
}

impl SearchCriteria {
    pub fn new() -> Self {
        Self::default()
    }

    /// AND one condition (a group of its own).
    pub fn and(mut self, filter: Filter) -> Self {
        self.groups.push(FilterGroup(vec![filter]));
        self
    }

    /// AND a group whose filters are ORed.
    pub fn and_any(mut self, filters: Vec<Filter>) -> Self {
        self.groups.push(FilterGroup(filters));
        self
    }

    pub fn sort(mut self, field: impl Into<String>, direction: Direction) -> Self {
        self.sort.push(SortOrder {
            field: field.into(),
            direction,
        });
        self
    }

    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// 1-based, like Magento.
    pub fn page(mut self, page: u32) -> Self {
        self.current_page = Some(page);
        self
    }

    /// The query parameters, not yet URL-encoded (the URL encoder, or the OAuth signer, does that).
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (f, filter) in group.0.iter().enumerate() {
                let p = format!("searchCriteria[filter_groups][{g}][filters][{f}]");
                q.push((format!("{p}[field]"), filter.field.clone()));
                q.push((format!("{p}[value]"), filter.value.clone()));
                q.push((format!("{p}[condition_type]"), filter.condition.to_string()));
            }
        }
        for (i, s) in self.sort.iter().enumerate() {
            q.push((
                format!("searchCriteria[sortOrders][{i}][field]"),
                s.field.clone(),
            ));
            q.push((
                format!("searchCriteria[sortOrders][{i}][direction]"),
                s.direction.as_str().to_owned(),
            ));
        }
        if let Some(n) = self.page_size {
            q.push(("searchCriteria[pageSize]".into(), n.to_string()));
        }
        if let Some(n) = self.current_page {
            q.push(("searchCriteria[currentPage]".into(), n.to_string()));
        }
        q
    }

    /// Read decoded query pairs the way Magento's REST input does: indexes may be sparse or
    /// out of order (they are PHP array keys), `condition_type` defaults to `eq`, parameters
    /// other than `searchCriteria[...]` are ignored.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, ParseError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        type FilterParts = BTreeMap<u32, BTreeMap<String, String>>;
        let mut groups: BTreeMap<u32, FilterParts> = BTreeMap::new();
        let mut sorts: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        let mut out = SearchCriteria::new();
        for (key, value) in pairs {
            let Some(rest) = key.strip_prefix("searchCriteria") else {
                continue;
            };
            let err = |m: &str| ParseError {
                param: key.to_owned(),
                message: m.to_owned(),
            };
            let parts = brackets(rest).ok_or_else(|| err("malformed brackets"))?;
            let number = |s: &str| s.parse::<u32>().map_err(|_| err("index is not a number"));
            match parts.as_slice() {
                ["filter_groups", g, "filters", f, attr] => {
                    if !matches!(*attr, "field" | "value" | "condition_type") {
                        return Err(err("unknown filter attribute"));
                    }
                    groups
                        .entry(number(g)?)
                        .or_default()
                        .entry(number(f)?)
                        .or_default()
                        .insert((*attr).to_owned(), value.to_owned());
                }
                ["sortOrders", i, attr] => {
                    if !matches!(*attr, "field" | "direction") {
                        return Err(err("unknown sort attribute"));
                    }
                    sorts
                        .entry(number(i)?)
                        .or_default()
                        .insert((*attr).to_owned(), value.to_owned());
                }
                ["pageSize"] => out.page_size = Some(number(value)?),
                ["currentPage"] => out.current_page = Some(number(value)?),
                _ => return Err(err("unknown searchCriteria parameter")),
            }
        }
        for (g, filters) in groups {
            let mut group = FilterGroup::default();
            for (f, mut attrs) in filters {
                let at = format!("searchCriteria[filter_groups][{g}][filters][{f}]");
                let field = attrs.remove("field").ok_or_else(|| ParseError {
                    param: format!("{at}[field]"),
                    message: "missing".into(),
                })?;
                let condition = match attrs.remove("condition_type") {
                    None => Condition::Eq,
                    Some(c) => Condition::parse(&c).ok_or_else(|| ParseError {
                        param: format!("{at}[condition_type]"),
                        message: format!("unknown condition type `{c}`"),
                    })?,
                };
                group.0.push(Filter {
                    field,
                    value: attrs.remove("value").unwrap_or_default(),
                    condition,
                });
            }
            out.groups.push(group);
        }
        for (i, mut attrs) in sorts {
            let field = attrs.remove("field").ok_or_else(|| ParseError {
                param: format!("searchCriteria[sortOrders][{i}][field]"),
                message: "missing".into(),
            })?;
            let direction = match attrs.remove("direction").as_deref() {
                None | Some("ASC") | Some("asc") => Direction::Asc,
                Some("DESC") | Some("desc") => Direction::Desc,
                Some(other) => {
                    return Err(ParseError {
                        param: format!("searchCriteria[sortOrders][{i}][direction]"),
                        message: format!("unknown direction `{other}`"),
                    })
                }
            };
            out.sort.push(SortOrder { field, direction });
        }
        Ok(out)
    }
}

/// `[a][b][c]` → `["a", "b", "c"]`; `None` when not bracket-shaped.
fn brackets(mut s: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    while !s.is_empty() {
        let inner = s.strip_prefix('[')?;
        let end = inner.find(']')?;
        parts.push(&inner[..end]);
        s = &inner[end + 1..];
    }
    Some(parts)
}

/// How many pages `total_count` items make at `page_size` (at least one: an empty result is
/// one empty page). Past it Magento repeats the last page.
pub fn pages(total_count: u64, page_size: u32) -> u32 {
    let size = u64::from(page_size.max(1));
    total_count.div_ceil(size).max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_groups_filters_sort_and_page() {
        let c = SearchCriteria::new()
            .and(Filter::new(
                "updated_at",
                Condition::Gteq,
                "2026-05-01 00:00:00",
            ))
            .and_any(vec![
                Filter::any_of("sku", Condition::In, ["A", "B/1"]),
                Filter::new("name", Condition::Like, "%bar%"),
            ])
            .sort("updated_at", Direction::Asc)
            .page_size(100)
            .page(2);
        let q = c.to_query();
        let expect = [
            (
                "searchCriteria[filter_groups][0][filters][0][field]",
                "updated_at",
            ),
            (
                "searchCriteria[filter_groups][0][filters][0][value]",
                "2026-05-01 00:00:00",
            ),
            (
                "searchCriteria[filter_groups][0][filters][0][condition_type]",
                "gteq",
            ),
            ("searchCriteria[filter_groups][1][filters][0][field]", "sku"),
            (
                "searchCriteria[filter_groups][1][filters][0][value]",
                "A,B/1",
            ),
            (
                "searchCriteria[filter_groups][1][filters][0][condition_type]",
                "in",
            ),
            (
                "searchCriteria[filter_groups][1][filters][1][field]",
                "name",
            ),
            (
                "searchCriteria[filter_groups][1][filters][1][value]",
                "%bar%",
            ),
            (
                "searchCriteria[filter_groups][1][filters][1][condition_type]",
                "like",
            ),
            ("searchCriteria[sortOrders][0][field]", "updated_at"),
            ("searchCriteria[sortOrders][0][direction]", "ASC"),
            ("searchCriteria[pageSize]", "100"),
            ("searchCriteria[currentPage]", "2"),
        ];
        let got: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expect);
        // And back.
        assert_eq!(SearchCriteria::parse(got).unwrap(), c);
    }

    #[test]
    fn every_condition_type_round_trips() {
        for cond in Condition::ALL {
            let c = SearchCriteria::new().and(Filter::new("f", cond, "v"));
            let q = c.to_query();
            let parsed =
                SearchCriteria::parse(q.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
            assert_eq!(parsed.groups[0].0[0].condition, cond);
        }
        assert_eq!(Condition::ALL.len(), 17);
    }

    #[test]
    fn parse_defaults_eq_and_reports_the_parameter() {
        let c = SearchCriteria::parse([
            ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
            ("searchCriteria[filter_groups][0][filters][0][value]", "A"),
            ("other", "ignored"),
        ])
        .unwrap();
        assert_eq!(c.groups[0].0[0].condition, Condition::Eq);
        let e = SearchCriteria::parse([
            (
                "searchCriteria[filter_groups][0][filters][0][condition_type]",
                "almost",
            ),
            ("searchCriteria[filter_groups][0][filters][0][field]", "x"),
        ])
        .unwrap_err();
        assert_eq!(
            e.param,
            "searchCriteria[filter_groups][0][filters][0][condition_type]"
        );
        let e = SearchCriteria::parse([("searchCriteria[pageSize]", "ten")]).unwrap_err();
        assert_eq!(e.param, "searchCriteria[pageSize]");
        let e = SearchCriteria::parse([("searchCriteria[bogus]", "1")]).unwrap_err();
        assert!(e.to_string().contains("searchCriteria[bogus]"), "{e}");
    }

    #[test]
    fn page_count_comes_from_total_count() {
        assert_eq!(pages(0, 10), 1);
        assert_eq!(pages(10, 10), 1);
        assert_eq!(pages(11, 10), 2);
        assert_eq!(pages(25, 0), 25);
    }
}
