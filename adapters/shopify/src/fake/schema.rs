//! The slice of the Admin GraphQL schema the fake serves, as data: object types with their
//! fields and arguments, input objects, enums and scalars. Validation walks a parsed document
//! against it, so a field, argument or input key Shopify does not have is refused the way
//! Shopify refuses it (top-level `errors` with `extensions.code`). Written by hand because the
//! real schema is megabytes of introspection; only what the adapter and tests use is here, and
//! anything else is "not defined", which is what a faithful fake must say about it anyway.

use crate::config::ApiVersion;

/// A field of an object type: its return type (GraphQL notation) and arguments.
pub struct FieldDef {
    pub name: &'static str,
    pub ty: &'static str,
    pub args: &'static [(&'static str, &'static str)],
}

// Macros rather than const fns: a struct literal in a `&[...]` is promoted to a static, a
// function call is not.
macro_rules! f {
    ($name:expr, $ty:expr $(,)?) => {
        FieldDef {
            name: $name,
            ty: $ty,
            args: &[],
        }
    };
}

macro_rules! fa {
    ($name:expr, $ty:expr, $args:expr $(,)?) => {
        FieldDef {
            name: $name,
            ty: $ty,
            args: $args,
        }
    };
}

const PAGE_ARGS: &[(&str, &str)] = &[
    ("first", "Int"),
    ("last", "Int"),
    ("after", "String"),
    ("before", "String"),
    ("reverse", "Boolean"),
    ("query", "String"),
];

const NESTED_PAGE_ARGS: &[(&str, &str)] = &[
    ("first", "Int"),
    ("last", "Int"),
    ("after", "String"),
    ("before", "String"),
    ("reverse", "Boolean"),
];

const ORDER_PAGE_ARGS: &[(&str, &str)] = &[
    ("first", "Int"),
    ("last", "Int"),
    ("after", "String"),
    ("before", "String"),
    ("reverse", "Boolean"),
    ("query", "String"),
    ("sortKey", "OrderSortKeys"),
];

const ORDER: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("name", "String!"),
    f!("email", "String"),
    f!("createdAt", "DateTime!"),
    f!("updatedAt", "DateTime!"),
    f!("cancelledAt", "DateTime"),
    f!("cancelReason", "OrderCancelReason"),
    f!("currencyCode", "CurrencyCode!"),
    f!("customer", "Customer"),
    f!("shippingAddress", "MailingAddress"),
    fa!("lineItems", "LineItemConnection!", NESTED_PAGE_ARGS),
    fa!(
        "fulfillmentOrders",
        "FulfillmentOrderConnection!",
        NESTED_PAGE_ARGS
    ),
];

const QUERY_ROOT: &[FieldDef] = &[
    f!("shop", "Shop!"),
    fa!("products", "ProductConnection!", PAGE_ARGS),
    fa!("productVariants", "ProductVariantConnection!", PAGE_ARGS),
    fa!("locations", "LocationConnection!", PAGE_ARGS),
    fa!("orders", "OrderConnection!", ORDER_PAGE_ARGS),
    fa!("order", "Order", &[("id", "ID!")]),
    fa!("product", "Product", &[("id", "ID!")]),
    fa!("productVariant", "ProductVariant", &[("id", "ID!")]),
    fa!("inventoryItem", "InventoryItem", &[("id", "ID!")]),
    fa!("priceList", "PriceList", &[("id", "ID!")]),
    fa!(
        "webhookSubscriptions",
        "WebhookSubscriptionConnection!",
        &[
            ("first", "Int"),
            ("last", "Int"),
            ("after", "String"),
            ("before", "String"),
            ("reverse", "Boolean"),
            ("query", "String"),
            ("topics", "[WebhookSubscriptionTopic!]"),
        ],
    ),
    fa!(
        "currentBulkOperation",
        "BulkOperation",
        &[("type", "BulkOperationType")]
    ),
    fa!("bulkOperation", "BulkOperation", &[("id", "ID!")]),
];

const MUTATION_ROOT: &[FieldDef] = &[
    fa!(
        "stagedUploadsCreate",
        "StagedUploadsCreatePayload",
        &[("input", "[StagedUploadInput!]!")],
    ),
    fa!(
        "bulkOperationRunMutation",
        "BulkOperationRunMutationPayload",
        &[
            ("mutation", "String!"),
            ("stagedUploadPath", "String!"),
            ("clientIdentifier", "String"),
        ],
    ),
    fa!(
        "bulkOperationCancel",
        "BulkOperationCancelPayload",
        &[("id", "ID!")]
    ),
    fa!(
        "fulfillmentCreate",
        "FulfillmentCreatePayload",
        &[("fulfillment", "FulfillmentInput!"), ("message", "String")],
    ),
    fa!(
        "fulfillmentTrackingInfoUpdate",
        "FulfillmentTrackingInfoUpdatePayload",
        &[
            ("fulfillmentId", "ID!"),
            ("trackingInfoInput", "FulfillmentTrackingInput!"),
            ("notifyCustomer", "Boolean"),
        ],
    ),
    fa!(
        "productSet",
        "ProductSetPayload",
        &[
            ("input", "ProductSetInput!"),
            ("synchronous", "Boolean"),
            ("identifier", "ProductSetIdentifiers"),
        ],
    ),
    fa!(
        "productVariantsBulkUpdate",
        "ProductVariantsBulkUpdatePayload",
        &[
            ("productId", "ID!"),
            ("variants", "[ProductVariantsBulkInput!]!"),
            ("allowPartialUpdates", "Boolean"),
        ],
    ),
    fa!(
        "inventorySetQuantities",
        "InventorySetQuantitiesPayload",
        &[("input", "InventorySetQuantitiesInput!")],
    ),
    fa!(
        "priceListFixedPricesAdd",
        "PriceListFixedPricesAddPayload",
        &[
            ("priceListId", "ID!"),
            ("prices", "[PriceListPriceInput!]!"),
        ],
    ),
    fa!(
        "priceListFixedPricesDelete",
        "PriceListFixedPricesDeletePayload",
        &[("priceListId", "ID!"), ("variantIds", "[ID!]!")],
    ),
    fa!(
        "webhookSubscriptionCreate",
        "WebhookSubscriptionCreatePayload",
        &[
            ("topic", "WebhookSubscriptionTopic!"),
            ("webhookSubscription", "WebhookSubscriptionInput!"),
        ],
    ),
];

const PAGE_INFO: &[FieldDef] = &[
    f!("hasNextPage", "Boolean!"),
    f!("hasPreviousPage", "Boolean!"),
    f!("startCursor", "String"),
    f!("endCursor", "String"),
];

const USER_ERROR: &[FieldDef] = &[
    f!("field", "[String!]"),
    f!("message", "String!"),
    f!("code", "String"),
];

const PRODUCT: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("handle", "String!"),
    f!("title", "String!"),
    f!("status", "ProductStatus!"),
    f!("descriptionHtml", "HTML!"),
    f!("productType", "String!"),
    f!("vendor", "String!"),
    f!("tags", "[String!]!"),
    f!("updatedAt", "DateTime!"),
    f!("options", "[ProductOption!]!"),
    fa!("variants", "ProductVariantConnection!", NESTED_PAGE_ARGS),
    fa!("metafields", "MetafieldConnection!", NESTED_PAGE_ARGS),
    fa!(
        "metafield",
        "Metafield",
        &[("namespace", "String"), ("key", "String!")]
    ),
];

const VARIANT: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("sku", "String"),
    f!("title", "String!"),
    f!("price", "Money!"),
    f!("compareAtPrice", "Money"),
    f!("barcode", "String"),
    f!("selectedOptions", "[SelectedOption!]!"),
    f!("inventoryItem", "InventoryItem!"),
    f!("product", "Product!"),
];

const INVENTORY_ITEM: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("sku", "String"),
    f!("tracked", "Boolean!"),
    fa!("inventoryLevel", "InventoryLevel", &[("locationId", "ID!")]),
    fa!(
        "inventoryLevels",
        "InventoryLevelConnection!",
        NESTED_PAGE_ARGS
    ),
];

const INVENTORY_LEVEL: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("location", "Location!"),
    fa!(
        "quantities",
        "[InventoryQuantity!]!",
        &[("names", "[String!]!")]
    ),
];

const BULK_OPERATION: &[FieldDef] = &[
    f!("id", "ID!"),
    f!("status", "BulkOperationStatus!"),
    f!("errorCode", "BulkOperationErrorCode"),
    f!("type", "BulkOperationType!"),
    f!("objectCount", "UnsignedInt64!"),
    f!("rootObjectCount", "UnsignedInt64!"),
    f!("fileSize", "UnsignedInt64"),
    f!("url", "URL"),
    f!("partialDataUrl", "URL"),
    f!("query", "String!"),
    f!("createdAt", "DateTime!"),
    f!("completedAt", "DateTime"),
];

/// The object types: name → fields. A `…Connection` gets nodes/edges/pageInfo.
fn object_fields(ty: &str) -> Option<&'static [FieldDef]> {
    Some(match ty {
        "QueryRoot" => QUERY_ROOT,
        "Mutation" => MUTATION_ROOT,
        "Shop" => &[
            f!("id", "ID!"),
            f!("name", "String!"),
            f!("myshopifyDomain", "String!"),
        ],
        "PageInfo" => PAGE_INFO,
        "Product" => PRODUCT,
        "ProductVariant" => VARIANT,
        "InventoryItem" => INVENTORY_ITEM,
        "InventoryLevel" => INVENTORY_LEVEL,
        "InventoryQuantity" => &[f!("name", "String!"), f!("quantity", "Int!")],
        "Location" => &[
            f!("id", "ID!"),
            f!("name", "String!"),
            f!("isActive", "Boolean!"),
        ],
        "ProductOption" => &[
            f!("id", "ID!"),
            f!("name", "String!"),
            f!("values", "[String!]!"),
        ],
        "SelectedOption" => &[f!("name", "String!"), f!("value", "String!")],
        "Metafield" => &[
            f!("id", "ID!"),
            f!("namespace", "String!"),
            f!("key", "String!"),
            f!("value", "String!"),
            f!("type", "String!"),
        ],
        "ProductSetPayload" => &[
            f!("product", "Product"),
            f!("productSetOperation", "ProductSetOperation"),
            f!("userErrors", "[ProductSetUserError!]!"),
        ],
        "ProductSetOperation" => &[
            f!("id", "ID!"),
            f!("status", "String!"),
            f!("userErrors", "[ProductSetUserError!]!"),
        ],
        "ProductVariantsBulkUpdatePayload" => &[
            f!("product", "Product"),
            f!("productVariants", "[ProductVariant!]"),
            f!("userErrors", "[ProductVariantsBulkUpdateUserError!]!"),
        ],
        "InventorySetQuantitiesPayload" => &[
            f!("inventoryAdjustmentGroup", "InventoryAdjustmentGroup"),
            f!("userErrors", "[InventorySetQuantitiesUserError!]!"),
        ],
        "InventoryAdjustmentGroup" => &[
            f!("id", "ID!"),
            f!("createdAt", "DateTime!"),
            f!("reason", "String!"),
            f!("referenceDocumentUri", "String"),
            f!("changes", "[InventoryChange!]!"),
        ],
        "InventoryChange" => &[
            f!("name", "String!"),
            f!("delta", "Int!"),
            f!("quantityAfterChange", "Int"),
            f!("item", "InventoryItem"),
            f!("location", "Location"),
        ],
        "Order" => ORDER,
        "PriceList" => &[
            f!("id", "ID!"),
            f!("name", "String!"),
            f!("currency", "CurrencyCode!"),
        ],
        "PriceListPrice" => &[
            f!("variant", "ProductVariant!"),
            f!("price", "MoneyV2!"),
            f!("compareAtPrice", "MoneyV2"),
            f!("originType", "PriceListPriceOriginType!"),
        ],
        "PriceListFixedPricesAddPayload" => &[
            f!("prices", "[PriceListPrice!]"),
            f!("userErrors", "[PriceListPriceUserError!]!"),
        ],
        "PriceListFixedPricesDeletePayload" => &[
            f!("deletedFixedPriceVariantIds", "[ID!]"),
            f!("userErrors", "[PriceListPriceUserError!]!"),
        ],
        "WebhookSubscription" => &[
            f!("id", "ID!"),
            f!("topic", "WebhookSubscriptionTopic!"),
            f!("uri", "String!"),
            f!("format", "WebhookSubscriptionFormat!"),
            f!("createdAt", "DateTime!"),
        ],
        "WebhookSubscriptionCreatePayload" => &[
            f!("webhookSubscription", "WebhookSubscription"),
            f!("userErrors", "[UserError!]!"),
        ],
        "BulkOperation" => BULK_OPERATION,
        "StagedUploadsCreatePayload" => &[
            f!("stagedTargets", "[StagedMediaUploadTarget!]"),
            f!("userErrors", "[UserError!]!"),
        ],
        "StagedMediaUploadTarget" => &[
            f!("url", "URL"),
            f!("resourceUrl", "URL"),
            f!("parameters", "[StagedUploadParameter!]!"),
        ],
        "StagedUploadParameter" => &[f!("name", "String!"), f!("value", "String!")],
        "BulkOperationCancelPayload" => &[
            f!("bulkOperation", "BulkOperation"),
            f!("userErrors", "[UserError!]!"),
        ],
        "BulkOperationRunMutationPayload" => &[
            f!("bulkOperation", "BulkOperation"),
            f!("userErrors", "[BulkMutationUserError!]!"),
        ],
        "FulfillmentCreatePayload" | "FulfillmentTrackingInfoUpdatePayload" => &[
            f!("fulfillment", "Fulfillment"),
            f!("userErrors", "[UserError!]!"),
        ],
        "Fulfillment" => &[
            f!("id", "ID!"),
            f!("status", "FulfillmentStatus!"),
            f!("trackingInfo", "[FulfillmentTrackingInfo!]!"),
        ],
        "FulfillmentTrackingInfo" => &[
            f!("company", "String"),
            f!("number", "String"),
            f!("url", "URL"),
        ],
        "Customer" => &[
            f!("id", "ID!"),
            f!("email", "String"),
            f!("firstName", "String"),
            f!("lastName", "String"),
            f!("displayName", "String!"),
        ],
        "MailingAddress" => &[
            f!("name", "String"),
            f!("firstName", "String"),
            f!("lastName", "String"),
            f!("company", "String"),
            f!("address1", "String"),
            f!("address2", "String"),
            f!("city", "String"),
            f!("provinceCode", "String"),
            f!("zip", "String"),
            f!("countryCodeV2", "CountryCode"),
            f!("phone", "String"),
        ],
        "LineItem" => &[
            f!("id", "ID!"),
            f!("sku", "String"),
            f!("name", "String!"),
            f!("quantity", "Int!"),
            f!("variant", "ProductVariant"),
            f!("originalUnitPriceSet", "MoneyBag!"),
        ],
        "MoneyBag" => &[f!("shopMoney", "MoneyV2!")],
        "MoneyV2" => &[
            f!("amount", "Decimal!"),
            f!("currencyCode", "CurrencyCode!"),
        ],
        "FulfillmentOrder" => &[
            f!("id", "ID!"),
            f!("status", "FulfillmentOrderStatus!"),
            fa!(
                "lineItems",
                "FulfillmentOrderLineItemConnection!",
                NESTED_PAGE_ARGS
            ),
        ],
        "FulfillmentOrderLineItem" => &[
            f!("id", "ID!"),
            f!("remainingQuantity", "Int!"),
            f!("totalQuantity", "Int!"),
            f!("lineItem", "LineItem!"),
        ],
        "ProductSetUserError"
        | "ProductVariantsBulkUpdateUserError"
        | "InventorySetQuantitiesUserError"
        | "PriceListPriceUserError"
        | "BulkMutationUserError"
        | "UserError" => USER_ERROR,
        _ => return connection_fields(ty),
    })
}

/// `{node}Connection` (`nodes`, `edges`, `pageInfo`) and `{node}Edge` (`cursor`, `node`).
macro_rules! connection_types {
    ($ty:expr, $($node:literal),+ $(,)?) => {
        match $ty {
            $(
                concat!($node, "Connection") => &[
                    f!("nodes", concat!("[", $node, "!]!")),
                    f!("edges", concat!("[", $node, "Edge!]!")),
                    f!("pageInfo", "PageInfo!"),
                ],
                concat!($node, "Edge") => &[f!("cursor", "String!"), f!("node", concat!($node, "!"))],
            )+
            _ => return None,
        }
    };
}

fn connection_fields(ty: &str) -> Option<&'static [FieldDef]> {
    Some(connection_types!(
        ty,
        "Product",
        "ProductVariant",
        "Location",
        "Metafield",
        "InventoryLevel",
        "Order",
        "LineItem",
        "FulfillmentOrder",
        "FulfillmentOrderLineItem",
        "WebhookSubscription",
    ))
}

pub fn field(ty: &str, name: &str) -> Option<&'static FieldDef> {
    object_fields(ty)?.iter().find(|d| d.name == name)
}

/// Input objects: name → fields (type in GraphQL notation; `!` = required). Inventory inputs
/// differ by version: 2026-04 removed `compareQuantity`/`ignoreCompareQuantity` and added
/// `changeFromQuantity`.
pub fn input_fields(
    ty: &str,
    version: ApiVersion,
) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match ty {
        "ProductSetInput" => &[
            ("id", "ID"),
            ("title", "String"),
            ("handle", "String"),
            ("descriptionHtml", "String"),
            ("productType", "String"),
            ("vendor", "String"),
            ("status", "ProductStatus"),
            ("tags", "[String!]"),
            ("productOptions", "[OptionSetInput!]"),
            ("variants", "[ProductVariantSetInput!]"),
            ("metafields", "[MetafieldInput!]"),
        ],
        "FulfillmentInput" => &[
            (
                "lineItemsByFulfillmentOrder",
                "[FulfillmentOrderLineItemsInput!]!",
            ),
            ("notifyCustomer", "Boolean"),
            ("trackingInfo", "FulfillmentTrackingInput"),
        ],
        "FulfillmentOrderLineItemsInput" => &[
            ("fulfillmentOrderId", "ID!"),
            (
                "fulfillmentOrderLineItems",
                "[FulfillmentOrderLineItemInput!]",
            ),
        ],
        "FulfillmentOrderLineItemInput" => &[("id", "ID!"), ("quantity", "Int!")],
        "FulfillmentTrackingInput" => &[
            ("company", "String"),
            ("number", "String"),
            ("numbers", "[String!]"),
            ("url", "URL"),
            ("urls", "[URL!]"),
        ],
        "OptionSetInput" => &[
            ("id", "ID"),
            ("name", "String"),
            ("position", "Int"),
            ("values", "[OptionValueSetInput!]"),
        ],
        "OptionValueSetInput" => &[("id", "ID"), ("name", "String")],
        "ProductVariantSetInput" => &[
            ("id", "ID"),
            ("sku", "String"),
            ("barcode", "String"),
            ("price", "Money"),
            ("compareAtPrice", "Money"),
            ("taxable", "Boolean"),
            ("position", "Int"),
            ("optionValues", "[VariantOptionValueInput!]!"),
            ("inventoryItem", "InventoryItemInput"),
            ("inventoryQuantities", "[ProductSetInventoryInput!]"),
            ("metafields", "[MetafieldInput!]"),
        ],
        "VariantOptionValueInput" => &[
            ("id", "ID"),
            ("name", "String"),
            ("optionId", "ID"),
            ("optionName", "String"),
        ],
        "InventoryItemInput" => &[
            ("sku", "String"),
            ("tracked", "Boolean"),
            ("cost", "Decimal"),
            ("requiresShipping", "Boolean"),
        ],
        "ProductSetInventoryInput" => &[
            ("locationId", "ID!"),
            ("name", "String!"),
            ("quantity", "Int!"),
        ],
        "MetafieldInput" => &[
            ("id", "ID"),
            ("namespace", "String"),
            ("key", "String"),
            ("value", "String"),
            ("type", "String"),
        ],
        "StagedUploadInput" => &[
            ("resource", "StagedUploadTargetGenerateUploadResource!"),
            ("filename", "String!"),
            ("mimeType", "String!"),
            ("httpMethod", "StagedUploadHttpMethodType"),
            ("fileSize", "UnsignedInt64"),
        ],
        "ProductSetIdentifiers" => &[
            ("id", "ID"),
            ("handle", "String"),
            ("customId", "UniqueMetafieldValueInput"),
        ],
        "UniqueMetafieldValueInput" => &[
            ("namespace", "String"),
            ("key", "String!"),
            ("value", "String!"),
        ],
        "ProductVariantsBulkInput" => &[
            ("id", "ID"),
            ("price", "Money"),
            ("compareAtPrice", "Money"),
            ("barcode", "String"),
            ("taxable", "Boolean"),
            ("inventoryItem", "InventoryItemInput"),
            ("optionValues", "[VariantOptionValueInput!]"),
            ("metafields", "[MetafieldInput!]"),
        ],
        "PriceListPriceInput" => &[
            ("variantId", "ID!"),
            ("price", "MoneyInput!"),
            ("compareAtPrice", "MoneyInput"),
        ],
        "MoneyInput" => &[("amount", "Decimal!"), ("currencyCode", "CurrencyCode!")],
        // `uri` since 2025-04; `callbackUrl` is its deprecated predecessor, still accepted.
        "WebhookSubscriptionInput" => &[
            ("uri", "String"),
            ("callbackUrl", "URL"),
            ("format", "WebhookSubscriptionFormat"),
            ("includeFields", "[String!]"),
            ("metafieldNamespaces", "[String!]"),
            ("filter", "String"),
        ],
        "InventorySetQuantitiesInput" if version.idempotent_inventory() => &[
            ("name", "String!"),
            ("reason", "String!"),
            ("referenceDocumentUri", "String"),
            ("quantities", "[InventoryQuantityInput!]!"),
        ],
        "InventorySetQuantitiesInput" => &[
            ("name", "String!"),
            ("reason", "String!"),
            ("referenceDocumentUri", "String"),
            ("ignoreCompareQuantity", "Boolean"),
            ("quantities", "[InventoryQuantityInput!]!"),
        ],
        "InventoryQuantityInput" if version.idempotent_inventory() => &[
            ("inventoryItemId", "ID!"),
            ("locationId", "ID!"),
            ("quantity", "Int!"),
            ("changeFromQuantity", "Int"),
        ],
        "InventoryQuantityInput" => &[
            ("inventoryItemId", "ID!"),
            ("locationId", "ID!"),
            ("quantity", "Int!"),
            ("compareQuantity", "Int"),
        ],
        _ => return None,
    })
}

/// `WebhookSubscriptionTopic` values the fake knows (Shopify has many more).
pub const WEBHOOK_TOPICS: &[&str] = &[
    "APP_UNINSTALLED",
    "BULK_OPERATIONS_FINISH",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "INVENTORY_ITEMS_UPDATE",
    "INVENTORY_LEVELS_UPDATE",
    "ORDERS_CANCELLED",
    "ORDERS_CREATE",
    "ORDERS_DELETE",
    "ORDERS_EDITED",
    "ORDERS_FULFILLED",
    "ORDERS_PAID",
    "ORDERS_UPDATED",
    "PRODUCTS_CREATE",
    "PRODUCTS_DELETE",
    "PRODUCTS_UPDATE",
];

pub fn enum_values(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "ProductStatus" => &["ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED"],
        "OrderSortKeys" => &[
            "CREATED_AT",
            "CUSTOMER_NAME",
            "FINANCIAL_STATUS",
            "FULFILLMENT_STATUS",
            "ID",
            "ORDER_NUMBER",
            "PROCESSED_AT",
            "RELEVANCE",
            "TOTAL_PRICE",
            "UPDATED_AT",
        ],
        "OrderCancelReason" => &[
            "CUSTOMER",
            "DECLINED",
            "FRAUD",
            "INVENTORY",
            "OTHER",
            "STAFF",
        ],
        "FulfillmentStatus" => &["CANCELLED", "ERROR", "FAILURE", "SUCCESS"],
        "PriceListPriceOriginType" => &["FIXED", "RELATIVE"],
        "WebhookSubscriptionFormat" => &["JSON", "XML"],
        // A slice of Shopify's topics: the ones the adapter subscribes to and a few neighbours.
        "WebhookSubscriptionTopic" => WEBHOOK_TOPICS,
        "BulkOperationStatus" => &[
            "CANCELED",
            "CANCELING",
            "COMPLETED",
            "CREATED",
            "EXPIRED",
            "FAILED",
            "RUNNING",
        ],
        "BulkOperationErrorCode" => &["ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"],
        "BulkOperationType" => &["MUTATION", "QUERY"],
        "StagedUploadHttpMethodType" => &["POST", "PUT"],
        "StagedUploadTargetGenerateUploadResource" => &[
            "BULK_MUTATION_VARIABLES",
            "COLLECTION_IMAGE",
            "FILE",
            "IMAGE",
            "MODEL_3D",
            "PRODUCT_IMAGE",
            "RETURN_LABEL",
            "SHOP_IMAGE",
            "URL_REDIRECT_IMPORT",
            "VIDEO",
        ],
        "FulfillmentOrderStatus" => &[
            "CANCELLED",
            "CLOSED",
            "INCOMPLETE",
            "IN_PROGRESS",
            "ON_HOLD",
            "OPEN",
            "SCHEDULED",
        ],
        _ => return None,
    })
}

pub fn is_scalar(ty: &str) -> bool {
    matches!(
        ty,
        "ID" | "String"
            | "Int"
            | "Float"
            | "Boolean"
            | "Money"
            | "Decimal"
            | "DateTime"
            | "HTML"
            | "URL"
            | "JSON"
            | "UnsignedInt64"
            | "CurrencyCode"
            | "CountryCode"
    ) || enum_values(ty).is_some()
}

/// A type reference in GraphQL notation, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty<'a> {
    Named { name: &'a str, non_null: bool },
    List { item: Box<Ty<'a>>, non_null: bool },
}

impl<'a> Ty<'a> {
    pub fn parse(s: &'a str) -> Ty<'a> {
        let (inner, non_null) = match s.strip_suffix('!') {
            Some(inner) => (inner, true),
            None => (s, false),
        };
        match inner.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(item) => Ty::List {
                item: Box::new(Ty::parse(item)),
                non_null,
            },
            None => Ty::Named {
                name: inner,
                non_null,
            },
        }
    }

    pub fn non_null(&self) -> bool {
        match self {
            Ty::Named { non_null, .. } | Ty::List { non_null, .. } => *non_null,
        }
    }

    /// The named type under any lists.
    pub fn base(&self) -> &'a str {
        match self {
            Ty::Named { name, .. } => name,
            Ty::List { item, .. } => item.base(),
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Ty::List { .. })
    }
}

/// Why an input value does not fit its type: the path inside the value and the explanation,
/// as Shopify reports them under `extensions.problems`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: Vec<serde_json::Value>,
    pub explanation: String,
}

/// Check `value` against `ty` (input coercion rules: a single value stands for a list of
/// one). Every problem is collected.
pub fn check_input(
    value: &serde_json::Value,
    ty: &Ty<'_>,
    version: ApiVersion,
    path: &mut Vec<serde_json::Value>,
    problems: &mut Vec<Problem>,
) {
    use serde_json::Value as J;
    fn push(problems: &mut Vec<Problem>, path: &[serde_json::Value], explanation: String) {
        problems.push(Problem {
            path: path.to_vec(),
            explanation,
        })
    }
    if value.is_null() {
        if ty.non_null() {
            push(problems, path, "Expected value to not be null".into());
        }
        return;
    }
    match ty {
        Ty::List { item, .. } => match value {
            J::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(J::from(i));
                    check_input(v, item, version, path, problems);
                    path.pop();
                }
            }
            single => check_input(single, item, version, path, problems),
        },
        Ty::Named { name, .. } => {
            let name = *name;
            if let Some(fields) = input_fields(name, version) {
                let J::Object(map) = value else {
                    push(
                        problems,
                        path,
                        format!("Expected \"{value}\" to be a key-value object."),
                    );
                    return;
                };
                for key in map.keys() {
                    if !fields.iter().any(|(n, _)| n == key) {
                        path.push(J::from(key.as_str()));
                        push(problems, path, format!("Field is not defined on {name}"));
                        path.pop();
                    }
                }
                for (field, fty) in fields {
                    let fty = Ty::parse(fty);
                    path.push(J::from(*field));
                    match map.get(*field) {
                        Some(v) => check_input(v, &fty, version, path, problems),
                        None if fty.non_null() => {
                            push(problems, path, "Expected value to not be null".into())
                        }
                        None => {}
                    }
                    path.pop();
                }
                return;
            }
            if let Some(values) = enum_values(name) {
                if !value.as_str().is_some_and(|s| values.contains(&s)) {
                    push(
                        problems,
                        path,
                        format!("Expected \"{value}\" to be one of: {}", values.join(", ")),
                    );
                }
                return;
            }
            let ok = match name {
                "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                "Float" => value.is_number(),
                "Boolean" => value.is_boolean(),
                "ID" => value.is_string() || value.is_i64(),
                "Money" | "Decimal" => match value {
                    J::String(s) => s.parse::<f64>().is_ok(),
                    J::Number(_) => true,
                    _ => false,
                },
                "JSON" => true,
                _ => value.is_string(),
            };
            if !ok {
                push(
                    problems,
                    path,
                    format!("Could not coerce value {value} to {name}"),
                );
            }
        }
    }
}
