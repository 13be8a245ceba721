//! `MAX_COST_EXCEEDED` handling for calls carrying a list of entries (a bulk price update's
//! variants, a price list's prices or variant ids): a call
//! Shopify refuses as over its single-query maximum is split in halves, and each half again,
//! until every part fits. The parts' answers come back with the entries they carried, so
//! the caller merges per-entry results (per SKU) without caring how the list was cut.
//!
//! Written here rather than with a crate because it is a dozen lines around the client's
//! [`CallError::MaxCost`]. Halving (rather than computing the size from the reported cost)
//! because the cost is not linear in the entries for every mutation; it costs at most
//! log2(n) extra refused calls, and a refused call costs no points.

use crate::client::CallError;
use std::future::Future;
use switchyard_core::error::AdapterError;

/// One part of a split call: the entries it carried and Shopify's answer.
pub type Part<T, R> = (Vec<T>, Result<R, AdapterError>);

/// Run `call` over `entries`, halving parts refused as over the maximum cost; parts in the
/// entries' order. A single entry over the maximum is a permanent error of that entry.
pub async fn split_calls<T, R, F, Fut>(entries: Vec<T>, mut call: F) -> Vec<Part<T, R>>
where
    T: Clone,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<R, CallError>>,
{
    let mut out = Vec::new();
    if entries.is_empty() {
        return out;
    }
    // A stack with the left half on top keeps the parts in order.
    let mut todo = vec![entries];
    while let Some(mut part) = todo.pop() {
        match call(part.clone()).await {
            Err(CallError::MaxCost { cost, max }) if part.len() > 1 => {
                let right = part.split_off(part.len() / 2);
                tracing::debug!(
                    cost,
                    max,
                    left = part.len(),
                    right = right.len(),
                    "over Shopify's single query maximum; splitting the call"
                );
                todo.push(right);
                todo.push(part);
            }
            Err(e) => out.push((part, Err(e.into_adapter()))),
            Ok(r) => out.push((part, Ok(r))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_until_each_part_fits_and_keeps_the_order() {
        let mut calls = Vec::new();
        let parts = split_calls((0..10).collect::<Vec<u32>>(), |part| {
            calls.push(part.len());
            let len = part.len();
            async move {
                if len > 3 {
                    Err(CallError::MaxCost {
                        cost: len as f64 * 100.0,
                        max: 300.0,
                    })
                } else {
                    Ok(len)
                }
            }
        })
        .await;
        let entries: Vec<u32> = parts.iter().flat_map(|(p, _)| p.clone()).collect();
        assert_eq!(entries, (0..10).collect::<Vec<_>>());
        assert!(parts.iter().all(|(p, r)| r.as_ref().ok() == Some(&p.len())));
        assert_eq!(calls, vec![10, 5, 2, 3, 5, 2, 3]);
    }

    #[tokio::test]
    async fn a_single_entry_over_the_maximum_is_its_own_error() {
        let parts = split_calls(vec![1], |_| async {
            Err::<(), _>(CallError::MaxCost {
                cost: 2000.0,
                max: 1000.0,
            })
        })
        .await;
        assert_eq!(parts.len(), 1);
        assert!(parts[0].1.is_err());
    }
}
