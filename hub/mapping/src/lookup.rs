//! Cross-reference tables: inline in the mapping or CSV files under `mappings/lookups/`, each
//! with an explicit policy for keys it does not contain.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum MissPolicy {
    Error,
    PassThrough,
    Default(Value),
}

#[derive(Debug)]
pub struct Lookup {
    pub name: String,
    pub entries: HashMap<String, Value>,
    pub miss: MissPolicy,
    pub case_insensitive: bool,
}

impl Lookup {
    fn key(&self, k: &str) -> String {
        if self.case_insensitive {
            k.trim().to_lowercase()
        } else {
            k.trim().to_string()
        }
    }

    pub fn insert(&mut self, k: &str, v: Value) {
        let k = self.key(k);
        self.entries.insert(k, v);
    }

    pub fn get(&self, k: &str) -> Result<Value, String> {
        if let Some(v) = self.entries.get(&self.key(k)) {
            return Ok(v.clone());
        }
        match &self.miss {
            MissPolicy::Error => {
                let mut known: Vec<&str> = self.entries.keys().map(|s| s.as_str()).collect();
                known.sort_unstable();
                known.truncate(12);
                Err(format!(
                    "'{k}' is not in lookup '{}' (known: {})",
                    self.name,
                    known.join(", ")
                ))
            }
            MissPolicy::PassThrough => Ok(Value::String(k.to_string())),
            MissPolicy::Default(v) => Ok(v.clone()),
        }
    }

    /// Reads `key_col` → `value_col` from CSV text; errors carry the CSV line.
    pub fn load_csv(&mut self, text: &str, key_col: &str, value_col: &str) -> Result<(), String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| format!("cannot read header: {e}"))?
            .clone();
        let ki = headers.iter().position(|h| h == key_col).ok_or_else(|| {
            format!(
                "no column '{key_col}' (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })?;
        let vi = headers.iter().position(|h| h == value_col).ok_or_else(|| {
            format!(
                "no column '{value_col}' (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })?;
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                format!("line {}: {e}", e.position().map(|p| p.line()).unwrap_or(0))
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let k = rec
                .get(ki)
                .ok_or_else(|| format!("line {line}: missing key column"))?;
            let v = rec
                .get(vi)
                .ok_or_else(|| format!("line {line}: missing value column"))?;
            if self.entries.contains_key(&self.key(k)) {
                return Err(format!("line {line}: duplicate key '{k}'"));
            }
            self.insert(k, Value::String(v.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(miss: MissPolicy) -> Lookup {
        let mut l = Lookup {
            name: "units".into(),
            entries: HashMap::new(),
            miss,
            case_insensitive: true,
        };
        l.load_csv("code,uom\nszt,EA\nkg,KG\n", "code", "uom")
            .unwrap();
        l
    }

    #[test]
    fn miss_policies() {
        assert_eq!(table(MissPolicy::Error).get("SZT").unwrap(), json!("EA"));
        assert!(table(MissPolicy::Error)
            .get("box")
            .unwrap_err()
            .contains("not in lookup 'units'"));
        assert_eq!(
            table(MissPolicy::PassThrough).get("box").unwrap(),
            json!("box")
        );
        assert_eq!(
            table(MissPolicy::Default(json!("EA"))).get("box").unwrap(),
            json!("EA")
        );
    }

    #[test]
    fn csv_errors_are_located() {
        let mut l = table(MissPolicy::Error);
        assert!(l
            .load_csv("code,uom\na,1\na,2\n", "code", "uom")
            .unwrap_err()
            .starts_with("line 3"));
        assert!(l
            .load_csv("k,v\n", "code", "uom")
            .unwrap_err()
            .contains("no column 'code'"));
    }
}
