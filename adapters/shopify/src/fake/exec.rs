//! Running a validated operation against the shop: root fields resolve to JSON objects
//! (built by [`super::store`]), then each is projected through its selection set. Nested
//! connections, `inventoryLevel(locationId:)`, `quantities(names:)` and `metafield(key:)` are
//! markers in the built JSON that the projection resolves with the field's arguments.

use super::store::{gid, parse_gid, Shop};
use super::validate::{Cx, RootField};
use async_graphql_parser::types::SelectionSet;
use base64::Engine as _;
use serde_json::{json, Map, Value};

fn encode_cursor(id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(id)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

/// A page of `items` (each with an `id`) by `first`/`after` (or `last`/`before`), as a
/// connection with `nodes`, `edges` and `pageInfo`.
pub fn connection(items: Vec<Value>, args: &Map<String, Value>) -> Value {
    let id_of = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut start = 0;
    let mut end = items.len();
    if let Some(after) = args
        .get("after")
        .and_then(Value::as_str)
        .and_then(decode_cursor)
    {
        start = items
            .iter()
            .position(|v| id_of(v) == after)
            .map_or(items.len(), |i| i + 1);
    }
    if let Some(before) = args
        .get("before")
        .and_then(Value::as_str)
        .and_then(decode_cursor)
    {
        end = items.iter().position(|v| id_of(v) == before).unwrap_or(end);
    }
    let end_all = end.max(start);
    let (mut from, mut to) = (start, end_all);
    if let Some(first) = args.get("first").and_then(Value::as_i64) {
        to = (from + first.max(0) as usize).min(end_all);
    } else if let Some(last) = args.get("last").and_then(Value::as_i64) {
        from = to.saturating_sub(last.max(0) as usize).max(start);
    }
    let reverse = args
        .get("reverse")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut page: Vec<Value> = items[from..to].to_vec();
    if reverse {
        page.reverse();
    }
    let edges: Vec<Value> = page
        .iter()
        .map(|n| json!({"cursor": encode_cursor(&id_of(n)), "node": n}))
        .collect();
    json!({
        "pageInfo": {
            "hasNextPage": to < end_all,
            "hasPreviousPage": from > 0,
            "startCursor": page.first().map(|n| encode_cursor(&id_of(n))),
            "endCursor": page.last().map(|n| encode_cursor(&id_of(n))),
        },
        "nodes": page,
        "edges": edges,
    })
}

/// `value` seen through `set`: only the fields asked for, under their aliases.
pub fn project(value: &Value, set: &SelectionSet, cx: &Cx<'_>) -> Value {
    if let Value::Array(items) = value {
        return Value::Array(items.iter().map(|i| project(i, set, cx)).collect());
    }
    if value.is_null() || set.items.is_empty() {
        return value.clone();
    }
    let mut out = Map::new();
    for field in cx.fields(set) {
        let name = field.node.name.node.as_str();
        let key = field.node.response_key().node.to_string();
        let args = cx.args(&field.node.arguments).unwrap_or_default();
        let raw = value.get(name).cloned().unwrap_or(Value::Null);
        let resolved = resolve_marker(raw, &args);
        out.insert(key, project(&resolved, &field.node.selection_set.node, cx));
    }
    Value::Object(out)
}

fn resolve_marker(raw: Value, args: &Map<String, Value>) -> Value {
    let Value::Object(map) = &raw else { return raw };
    if let Some(Value::Array(items)) = map.get("__connection") {
        return connection(items.clone(), args);
    }
    if let Some(keyed) = map.get("__keyed") {
        let arg = keyed["arg"].as_str().unwrap_or_default();
        let at = args.get(arg).and_then(Value::as_str).unwrap_or_default();
        return keyed["map"].get(at).cloned().unwrap_or(Value::Null);
    }
    if let Some(filter) = map.get("__filter") {
        let arg = filter["arg"].as_str().unwrap_or_default();
        let key = filter["key"].as_str().unwrap_or_default();
        let wanted: Vec<&Value> = match args.get(arg) {
            Some(Value::Array(v)) => v.iter().collect(),
            Some(single) => vec![single],
            None => vec![],
        };
        let items = filter["items"].as_array().cloned().unwrap_or_default();
        return Value::Array(
            items
                .into_iter()
                .filter(|i| wanted.contains(&&i[key]))
                .collect(),
        );
    }
    if let Some(keyed) = map.get("__metafield") {
        let ns = args
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("custom");
        let key = args.get("key").and_then(Value::as_str).unwrap_or_default();
        return keyed
            .get(format!("{ns}.{key}"))
            .cloned()
            .unwrap_or(Value::Null);
    }
    raw
}

/// `sku:ABC`, `sku:'ABC'` or `sku:"ABC"` in a search query → `ABC`.
fn query_term<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    let rest = query.trim().strip_prefix(name)?.strip_prefix(':')?.trim();
    Some(rest.trim_matches(|c| c == '\'' || c == '"'))
}

/// A read root field, built and projected.
pub fn query_field(shop: &Shop, field: &RootField, cx: &Cx<'_>, domain: &str) -> Value {
    let args = &field.args;
    let q = args
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let built = match field.name.as_str() {
        "shop" => {
            json!({"id": "gid://shopify/Shop/1", "name": domain.split('.').next().unwrap_or(domain), "myshopifyDomain": domain})
        }
        "products" => {
            let handle = query_term(q, "handle");
            let ids: Vec<Value> = shop
                .products
                .values()
                .filter(|p| handle.is_none_or(|h| p.handle == h))
                .map(|p| json!({"id": gid("Product", p.id)}))
                .collect();
            let mut page = connection(ids, args);
            fill(&mut page, |id| {
                parse_gid("Product", id)
                    .and_then(|n| shop.products.get(&n))
                    .map(|p| shop.product_json(p))
            });
            page
        }
        "productVariants" => {
            let sku = query_term(q, "sku");
            let items: Vec<Value> = shop
                .products
                .values()
                .flat_map(|p| p.variants.iter().map(move |v| (p, v)))
                .filter(|(_, v)| sku.is_none_or(|s| v.sku.as_deref() == Some(s)))
                .map(|(p, v)| shop.variant_json(p, v))
                .collect();
            connection(items, args)
        }
        "orders" => shop.orders.page(args),
        "order" => args
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| parse_gid("Order", id))
            .and_then(|n| shop.orders.get(n))
            .map_or(Value::Null, |o| shop.orders.json(o)),
        "locations" => connection(
            shop.locations
                .keys()
                .map(|l| shop.location_json(l))
                .collect(),
            args,
        ),
        "product" => args
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| parse_gid("Product", id))
            .and_then(|n| shop.products.get(&n))
            .map_or(Value::Null, |p| shop.product_json(p)),
        "productVariant" => args
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| parse_gid("ProductVariant", id))
            .and_then(|vid| {
                shop.products.values().find_map(|p| {
                    p.variants
                        .iter()
                        .find(|v| v.id == vid)
                        .map(|v| shop.variant_json(p, v))
                })
            })
            .unwrap_or(Value::Null),
        "inventoryItem" => args
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| parse_gid("InventoryItem", id))
            .filter(|n| shop.items.contains_key(n))
            .map_or(Value::Null, |n| shop.item_json(n)),
        _ => Value::Null,
    };
    project(&built, &field.selection.node, cx)
}

/// Replace each `{"id"}` stub of a page (nodes and edges) with the full object: a page is
/// chosen over ids alone so a list of 100,000 products is not built to serve 250.
fn fill(page: &mut Value, build: impl Fn(&str) -> Option<Value>) {
    if let Some(nodes) = page["nodes"].as_array_mut() {
        for n in nodes.iter_mut() {
            if let Some(full) = n["id"].as_str().and_then(&build) {
                *n = full;
            }
        }
    }
    if let Some(edges) = page["edges"].as_array_mut() {
        for e in edges.iter_mut() {
            if let Some(full) = e["node"]["id"].as_str().and_then(&build) {
                e["node"] = full;
            }
        }
    }
}
