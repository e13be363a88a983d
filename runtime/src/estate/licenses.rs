//! The license records of `licenses.yaml`: checks every field, expands a record's SKU into its
//! metric, rights and name from the compiled packs, and checks restrictions and allocations.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use tally_compiler::diagnostics::{SourceFile, Span};
use tally_compiler::ir::CompiledPack;

use super::codes;
use super::import::{EXPIRY, Ids, Imported, OS_TYPE, OS_TYPES, References, Target, UNIT_PRICE};
use super::model::{
    Allocation, AllocationKind, AllocationTarget, EntitlementLimit, License, LicenseStatus,
    Restrictions, VirtualCount, Virtualization,
};
use super::values::{self, Checker, Field, What, did_you_mean_prefix};
use super::yaml::{Document, Node, RawAllocation, RawLicense, RawRestrictions, RawVirtualization};

const LICENSE_ID: What = What::required("license id", "the license's id", "L-VISIO-2016");
const PRIORITY: What = What::optional("priority", "the priority", "1");
const LIMIT: What = What::defaulted("limit", "the limit", "true_up", "as_purchased");
const STATUS: What = What::defaulted("license status", "the license status", "active", "active");
const EXTRA: What = What::defaulted("extra entitlements", "the extra entitlements", "5", "0");
const ALLOCATION_KIND: What = What::defaulted(
    "allocation type",
    "the allocation type",
    "permanent",
    "allocated",
);

const VIRTUAL_COUNT: What = What::derived(
    "virtualization count",
    "what the license counts",
    "host",
    "what the metric counts",
);
const CAPACITY: What = What::defaulted("virtualization capacity", "the capacity", "sub", "full");
const METRIC_VALUE: What = What::optional("metric value", "the metric value", "2.2");

/// `capacity` in `virtualization`: whether the license is counted at sub-capacity.
const CAPACITIES: &[(&str, bool)] = &[("full", false), ("sub", true)];

const ALLOCATION_KINDS: &[(&str, AllocationKind)] = &[
    ("allocated", AllocationKind::Allocated),
    ("awaiting_inventory", AllocationKind::AwaitingInventory),
    ("permanent", AllocationKind::Permanent),
];

/// Reads `licenses.yaml`; allocations are recorded as references to devices and users.
pub(super) fn read(
    source: &Arc<SourceFile>,
    pack: &CompiledPack,
    references: &mut References,
) -> Imported<License> {
    let document = match Document::parse(source) {
        Ok(document) => document,
        Err(diagnostic) => {
            return Imported {
                records: Vec::new(),
                ids: None,
                diagnostics: vec![*diagnostic],
            };
        }
    };
    let mut check = Checker::new(source);
    let mut ids = Ids::default();
    let mut records = Vec::new();
    for (index, raw) in document.licenses.iter().enumerate() {
        let node = document.license(index);
        let id_field = node.field("id", raw.id.as_ref());
        let id = check
            .required(id_field.as_ref(), node.span(), &LICENSE_ID)
            .filter(|id| ids.claim(&mut check, id, "license"));
        let license = license(&mut check, pack, references, &node, raw, id);
        if id.is_some() {
            records.push(license);
        }
    }
    Imported::new(records, ids, true, check)
}

/// Checks one license record; `id` is its id if it has a usable one.
fn license(
    check: &mut Checker,
    pack: &CompiledPack,
    references: &mut References,
    node: &Node<'_>,
    raw: &RawLicense,
    id: Option<&Field>,
) -> License {
    let sku = node.field("sku", raw.sku.as_ref());
    let metric = node.field("metric", raw.metric.as_ref());
    let rights = node.field("rights", raw.rights.as_ref());
    let template = sku.as_ref().and_then(|f| {
        declared(check, f, &pack.skus, "sku", "use a sku declared in a loaded rule pack, or give `metric` and `rights` instead of `sku`")
    });
    let metric_id = metric.as_ref().and_then(|f| {
        declared(
            check,
            f,
            &pack.metrics,
            "metric",
            "use a metric declared in a loaded rule pack, such as `device` or `user`",
        )
    });
    let rights_id = rights.as_ref().and_then(|f| {
        declared(
            check,
            f,
            &pack.rights,
            "rights",
            "use a `rights` or `bundle` declared in a loaded rule pack",
        )
    });
    let has = |field: &Option<Field>| field.as_ref().and_then(Field::value).is_some();
    let explicit = has(&metric) && has(&rights);
    if !(has(&sku) || explicit) {
        let missing: Vec<&str> = [("sku", &sku), ("metric", &metric), ("rights", &rights)]
            .into_iter()
            .filter(|(_, f)| !has(f))
            .map(|(name, _)| name)
            .collect();
        check.report(
            codes::ESTATE_VALUE,
            Some(node.span()),
            "license needs a sku, or both a metric and rights",
            format!("no {}", values::backticked(missing)),
            "add `sku:` with a sku from a loaded rule pack, or both `metric:` (such as `device` or `user`) and `rights:`",
        );
    }
    let id = id.map(|f| f.text.clone()).unwrap_or_default();
    let name = node.field("name", raw.name.as_ref());
    License {
        name: values::text(name.as_ref())
            .or_else(|| template.map(|(_, t)| t.license_name.clone()))
            .unwrap_or_else(|| id.clone()),
        sku: values::text(sku.as_ref()),
        metric: metric_id
            .map(|(m, _)| m.to_owned())
            .or_else(|| template.map(|(_, t)| t.metric.clone()))
            .unwrap_or_default(),
        rights: rights_id
            .map(|(r, _)| r.to_owned())
            .or_else(|| template.map(|(_, t)| t.rights.clone()))
            .unwrap_or_default(),
        priority: check.whole(
            node.field("priority", raw.priority.as_ref()).as_ref(),
            &PRIORITY,
            1,
        ),
        limit: check
            .choice(
                node.field("limit", raw.limit.as_ref()).as_ref(),
                &LIMIT,
                EntitlementLimit::NAMES,
            )
            .unwrap_or(EntitlementLimit::AsPurchased),
        status: check
            .choice(
                node.field("status", raw.status.as_ref()).as_ref(),
                &STATUS,
                LicenseStatus::NAMES,
            )
            .unwrap_or(LicenseStatus::Active),
        extra_entitlements: check
            .amount(
                node.field("extra_entitlements", raw.extra_entitlements.as_ref())
                    .as_ref(),
                &EXTRA,
            )
            .unwrap_or(Decimal::ZERO),
        unit_price: check.amount(
            node.field("unit_price", raw.unit_price.as_ref()).as_ref(),
            &UNIT_PRICE,
        ),
        currency: check.currency(node.field("currency", raw.currency.as_ref()).as_ref()),
        expiry: check.date(node.field("expiry", raw.expiry.as_ref()).as_ref(), &EXPIRY),
        restrictions: restrictions(
            check,
            &node.child("restrictions"),
            raw.restrictions.as_ref(),
        ),
        allocations: allocations(
            check,
            references,
            &node.child("allocations"),
            raw.allocations.as_deref().unwrap_or_default(),
        ),
        virtualization: virtualization(
            check,
            &node.child("virtualization"),
            raw.virtualization.as_ref(),
        ),
        metric_value: check.amount(
            node.field("metric_value", raw.metric_value.as_ref())
                .as_ref(),
            &METRIC_VALUE,
        ),
        id,
    }
}

fn virtualization(
    check: &mut Checker,
    node: &Node<'_>,
    raw: Option<&RawVirtualization>,
) -> Virtualization {
    let Some(raw) = raw else {
        return Virtualization::default();
    };
    Virtualization {
        count: check.choice(
            node.field("count", raw.count.as_ref()).as_ref(),
            &VIRTUAL_COUNT,
            VirtualCount::NAMES,
        ),
        subcapacity: check
            .choice(
                node.field("capacity", raw.capacity.as_ref()).as_ref(),
                &CAPACITY,
                CAPACITIES,
            )
            .unwrap_or(false),
    }
}

/// The declaration named in `field`, with its id; a T0205 error when the packs lack it.
fn declared<'p, V>(
    check: &mut Checker,
    field: &Field,
    declarations: &'p BTreeMap<String, V>,
    noun: &str,
    help: &str,
) -> Option<(&'p str, &'p V)> {
    let name = field.value()?;
    if let Some((id, value)) = declarations.get_key_value(name) {
        return Some((id, value));
    }
    check.report(
        codes::ESTATE_UNKNOWN_REFERENCE,
        Some(field.span),
        format!("unknown {noun} `{name}`"),
        "not declared in the loaded rule packs",
        format!(
            "{}{help}",
            did_you_mean_prefix(name, declarations.keys().map(String::as_str))
        ),
    );
    None
}

fn restrictions(
    check: &mut Checker,
    node: &Node<'_>,
    raw: Option<&RawRestrictions>,
) -> Restrictions {
    let Some(raw) = raw else {
        return Restrictions::default();
    };
    let groups = node.child("groups");
    Restrictions {
        os_type: check.choice(
            node.field("os_type", raw.os_type.as_ref()).as_ref(),
            &OS_TYPE,
            OS_TYPES,
        ),
        groups: raw
            .groups
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, group)| {
                let field = groups.item(i).scalar(group.as_ref()?);
                check.group(&field)
            })
            .collect(),
    }
}

/// The allocations of a license, sorted; each names one device or one user, once.
fn allocations(
    check: &mut Checker,
    references: &mut References,
    node: &Node<'_>,
    raw: &[RawAllocation],
) -> Vec<Allocation> {
    let mut seen: BTreeMap<AllocationTarget, Span> = BTreeMap::new();
    let mut allocations = Vec::new();
    for (index, raw) in raw.iter().enumerate() {
        let item = node.item(index);
        let kind = check
            .choice(
                item.field("type", raw.kind.as_ref()).as_ref(),
                &ALLOCATION_KIND,
                ALLOCATION_KINDS,
            )
            .unwrap_or(AllocationKind::Allocated);
        let given = |field: Option<Field>| field.filter(|f| f.value().is_some());
        let device = given(item.field("device", raw.device.as_ref()));
        let user = given(item.field("user", raw.user.as_ref()));
        let (target, make, field): (Target, fn(String) -> AllocationTarget, Field) = match (
            device, user,
        ) {
            (Some(device), None) => (Target::Device, AllocationTarget::Device, device),
            (None, Some(user)) => (Target::User, AllocationTarget::User, user),
            (Some(_), Some(user)) => {
                check.report(
                    codes::ESTATE_VALUE,
                    Some(user.span),
                    "allocation names both a device and a user",
                    "second target",
                    "split it into two allocations, one with `device:` and one with `user:`",
                );
                continue;
            }
            (None, None) => {
                check.report(
                    codes::ESTATE_VALUE,
                    Some(item.span()),
                    "allocation names no device or user",
                    "no `device` or `user`",
                    "write `device:` with a device id from `devices.csv`, or `user:` with a user id from `users.csv`",
                );
                continue;
            }
        };
        let Some(id) = references.add(target, check.source(), Some(&field)) else {
            continue;
        };
        let noun = target.noun();
        let target = make(id);
        if let Some(first) = seen.get(&target) {
            let (line, _) = check.source().line_col(first.start);
            check.report(
                codes::ESTATE_DUPLICATE_ID,
                Some(field.span),
                format!("{noun} `{}` is allocated to this license twice", field.text),
                "second allocation",
                format!("remove one of the two allocations; the first is on line {line}"),
            );
            continue;
        }
        seen.insert(target.clone(), field.span);
        allocations.push(Allocation { target, kind });
    }
    allocations.sort();
    allocations
}
