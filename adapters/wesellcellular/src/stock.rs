//! The stock list (`GET /stocklist/items`) as pull pages for the entities `inventory` and
//! `prices`: both come from the same list (a line carries its quantity and its price), and the
//! mapping files `wesellcellular/stock.in` and `wesellcellular/price.in` take what they need.
//!
//! The cursor is the next page number. Each line is checked against [`StockItem`] (a quantity
//! that is neither a count nor `N+` fails the page, naming the line) and handed on in the
//! tenant's own shape, so the mappings see exactly what the portal sent; a capped quantity
//! stays `"100+"` for the mapping to store as a floor, never as a count.

use crate::client::{Call, Client};
use crate::wire::{self, Page, StockItem};
use reqwest::Method;
use serde_json::Value;
use switchyard_core::adapter::{AdapterContext, PullPage, PullRequest};
use switchyard_core::AdapterError;

/// The entities the stock list serves.
pub const ENTITIES: [&str; 2] = ["inventory", "prices"];

/// One page of the stock list.
pub async fn pull(
    client: &Client,
    ctx: &AdapterContext,
    request: &PullRequest,
) -> Result<PullPage, AdapterError> {
    if !ENTITIES.contains(&request.entity.as_str()) {
        return Err(AdapterError::permanent(format!(
            "WesellCellular has no entity `{}` to pull (it serves {})",
            request.entity,
            ENTITIES.join(", ")
        )));
    }
    let page: u32 = match request.cursor.as_deref() {
        None => 1,
        Some(c) => c.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
            AdapterError::permanent(format!("cursor `{c}` is not a stock list page number"))
        })?,
    };
    let settings = client.settings();
    let page_size = param_u32(&request.params, "pageSize")?.unwrap_or(settings.page_size);
    let out_of_stock = match request.params.get("includeOutOfStock") {
        None => settings.include_out_of_stock,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(AdapterError::permanent(format!(
                "params.includeOutOfStock must be true or false, got {other}"
            )))
        }
    };
    let answer = client
        .send(
            ctx,
            Call::new(
                "wesellcellular.stocklist",
                Method::GET,
                wire::STOCKLIST_PATH,
            )
            .query(vec![
                ("includeOutOfStock".into(), out_of_stock.to_string()),
                ("page".into(), page.to_string()),
                ("pageSize".into(), page_size.to_string()),
            ]),
        )
        .await?;
    let list: Page<Value> = serde_json::from_value(answer.body)
        .map_err(|e| AdapterError::permanent(format!("the stock list page is not a page: {e}")))?;
    for (i, item) in list.items.iter().enumerate() {
        serde_json::from_value::<StockItem>(item.clone()).map_err(|e| {
            AdapterError::permanent(format!("stock list page {page}, line {i}: {e}"))
        })?;
    }
    // The tenant answers a page past the end with no lines; the last page ends the pull.
    let next_cursor =
        (!list.items.is_empty() && page < list.total_pages).then(|| (page + 1).to_string());
    Ok(PullPage {
        records: list.items,
        next_cursor,
    })
}

fn param_u32(params: &Value, key: &str) -> Result<Option<u32>, AdapterError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| {
                AdapterError::permanent(format!("params.{key} must be a positive count, got {v}"))
            }),
    }
}
