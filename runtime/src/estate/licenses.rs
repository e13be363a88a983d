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
    Allocation, AllocationKind, AllocationTarget, Assignment, DeviceRole, Duration,
    EXEMPTION_REASONS, EntitlementLimit, Exemption, License, LicenseStatus, Range, Restrictions,
    SecondUse, VirtualCount, Virtualization,
};
use super::values::{self, Checker, Field, What, did_you_mean_prefix};
use super::yaml::{
    Document, Node, RawAllocation, RawAssignment, RawExemption, RawLicense, RawRestrictions,
    RawSecondUse, RawVirtualization, Scalar,
};

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
const DURATION: What = What::derived(
    "license duration",
    "the duration",
    "subscription",
    "`subscription` when `expiry` is given, else `perpetual`",
);
const START: What = What::optional("start date", "the start date", "2026-01-01");
const MAINTENANCE_END: What = What::optional(
    "maintenance end date",
    "the maintenance end date",
    "2025-06-30",
);
const ALLOCATIONS_CONSUME: What = What::defaulted(
    "allocations-consume flag",
    "whether allocations consume without an installation",
    "true",
    "false",
);
const GROUP: What = What::required("group", "the group", "location=Asia/India");
const QUANTITY: What = What::required("assigned quantity", "the quantity", "2");
const ROLE: What = What::required("device role", "a device role", "test");
const WORK_LAPTOP: What = What::defaulted(
    "work-laptop second use flag",
    "whether a second copy on a work laptop is free",
    "true",
    "false",
);
const HOME: What = What::defaulted(
    "home second use flag",
    "whether a second copy at home is allowed",
    "true",
    "false",
);
const MIN_CORES: What = What::optional("minimum cores", "the fewest cores", "2");
const MAX_CORES: What = What::optional("maximum cores", "the most cores", "16");
const MIN_PROCESSORS: What = What::optional("minimum processors", "the fewest processors", "1");
const MAX_PROCESSORS: What = What::optional("maximum processors", "the most processors", "4");
const MIN_SOCKETS: What = What::optional("minimum sockets", "the fewest sockets", "1");
const MAX_SOCKETS: What = What::optional("maximum sockets", "the most sockets", "2");

/// `capacity` in `virtualization`: whether the license is counted at sub-capacity.
const CAPACITIES: &[(&str, bool)] = &[("full", false), ("sub", true)];

/// Reads `licenses.yaml`; allocations are recorded as references to devices and users.
pub(super) fn read(
    source: &Arc<SourceFile>,
    pack: &CompiledPack,
    references: &mut References,
) -> Imported<License> {
    let document = match Document::parse(source) {
        Ok(document) => document,
        Err(diagnostic) => return Imported::unreadable(*diagnostic),
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
    id: Option<&Field<'_>>,
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
    let has = |field: &Option<Field<'_>>| field.as_ref().and_then(Field::value).is_some();
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
    let id = id.map(|f| f.text.to_string()).unwrap_or_default();
    let name = node.field("name", raw.name.as_ref());
    let expiry_field = node.field("expiry", raw.expiry.as_ref());
    let expiry = check.date(expiry_field.as_ref(), &EXPIRY);
    let duration = check.choice(
        node.field("duration", raw.duration.as_ref()).as_ref(),
        &DURATION,
        Duration::NAMES,
    );
    let start = check.date(node.field("start", raw.start.as_ref()).as_ref(), &START);
    if let (Some(start), Some(expiry), Some(field)) = (start, expiry, expiry_field.as_ref())
        && expiry < start
    {
        check.report(
            codes::ESTATE_VALUE,
            Some(field.span),
            format!("license expires on {expiry}, before it starts on {start}"),
            "expiry before start",
            "write an expiry on or after the start date",
        );
    }
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
        expiry,
        // The record's own duration, else its SKU's, else a dated license is a subscription.
        duration: duration
            .or_else(|| {
                template.map(|(_, sku)| match sku.duration {
                    tally_compiler::ir::Duration::Perpetual => Duration::Perpetual,
                    tally_compiler::ir::Duration::Subscription => Duration::Subscription,
                })
            })
            .unwrap_or(if expiry.is_some() {
                Duration::Subscription
            } else {
                Duration::Perpetual
            }),
        start,
        maintenance_end: check.date(
            node.field("maintenance_end", raw.maintenance_end.as_ref())
                .as_ref(),
            &MAINTENANCE_END,
        ),
        restrictions: restrictions(
            check,
            pack,
            &node.child("restrictions"),
            raw.restrictions.as_ref(),
        ),
        allocations: allocations(
            check,
            references,
            &node.child("allocations"),
            raw.allocations.as_deref().unwrap_or_default(),
        ),
        allocations_consume: check
            .flag(
                node.field("allocations_consume", raw.allocations_consume.as_ref())
                    .as_ref(),
                &ALLOCATIONS_CONSUME,
            )
            .unwrap_or(false),
        assignments: assignments(
            check,
            &node.child("assignments"),
            raw.assignments.as_deref().unwrap_or_default(),
        ),
        exemptions: exemptions(
            check,
            references,
            &node.child("exemptions"),
            raw.exemptions.as_deref().unwrap_or_default(),
        ),
        exempt_roles: {
            let roles = node.child("exempt_roles");
            let mut list: Vec<DeviceRole> = raw
                .exempt_roles
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, role)| {
                    let field = roles.item(i).scalar(role.as_ref()?);
                    check.choice(Some(&field), &ROLE, DeviceRole::NAMES)
                })
                .collect();
            list.sort();
            list.dedup();
            list
        },
        second_use: second_use(check, &node.child("second_use"), raw.second_use.as_ref()),
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
    field: &Field<'_>,
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
    pack: &CompiledPack,
    node: &Node<'_>,
    raw: Option<&RawRestrictions>,
) -> Restrictions {
    let Some(raw) = raw else {
        return Restrictions::default();
    };
    let groups = node.child("groups");
    let mut range = |min: (&str, Option<&Scalar>, &What), max: (&str, Option<&Scalar>, &What)| {
        let min_field = node.field(min.0, min.1);
        let max_field = node.field(max.0, max.1);
        let range = Range {
            min: check.whole(min_field.as_ref(), min.2, 0),
            max: check.whole(max_field.as_ref(), max.2, 0),
        };
        if let (Some(lo), Some(hi), Some(field)) = (range.min, range.max, max_field.as_ref())
            && hi < lo
        {
            check.report(
                codes::ESTATE_VALUE,
                Some(field.span),
                format!("`{}` {hi} is below `{}` {lo}", max.0, min.0),
                "empty range",
                format!("write a `{}` of at least {lo}", max.0),
            );
        }
        range
    };
    let cores = range(
        ("min_cores", raw.min_cores.as_ref(), &MIN_CORES),
        ("max_cores", raw.max_cores.as_ref(), &MAX_CORES),
    );
    let processors = range(
        (
            "min_processors",
            raw.min_processors.as_ref(),
            &MIN_PROCESSORS,
        ),
        (
            "max_processors",
            raw.max_processors.as_ref(),
            &MAX_PROCESSORS,
        ),
    );
    let sockets = range(
        ("min_sockets", raw.min_sockets.as_ref(), &MIN_SOCKETS),
        ("max_sockets", raw.max_sockets.as_ref(), &MAX_SOCKETS),
    );
    let requires = node.field("requires_installed", raw.requires_installed.as_ref());
    let requires_installed = requires.as_ref().and_then(|field| {
        let name = field.value()?;
        if pack.products.contains_key(name) || pack.applications.contains_key(name) {
            return Some(name.to_owned());
        }
        check.report(
            codes::ESTATE_UNKNOWN_REFERENCE,
            Some(field.span),
            format!("unknown product or application `{name}`"),
            "not declared in the loaded rule packs",
            format!(
                "{}name a product or application declared in a loaded rule pack, such as the database an option needs",
                did_you_mean_prefix(
                    name,
                    pack.products.keys().chain(pack.applications.keys()).map(String::as_str)
                )
            ),
        );
        None
    });
    Restrictions {
        cores,
        processors,
        sockets,
        requires_installed,
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
                AllocationKind::NAMES,
            )
            .unwrap_or(AllocationKind::Allocated);
        let Some((target, make, field)) = target_of(
            check,
            &item,
            item.field("device", raw.device.as_ref()),
            item.field("user", raw.user.as_ref()),
            "allocation",
        ) else {
            continue;
        };
        let Some(id) = references.add(target, check.source(), Some(&field)) else {
            continue;
        };
        let noun = target.noun();
        let target = make(id.to_owned());
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

/// A license's group assignments: each names one group, all of one group type (T0203
/// otherwise), each at most once; sorted deepest group first, then by path.
fn assignments(check: &mut Checker, node: &Node<'_>, raw: &[RawAssignment]) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = Vec::new();
    let mut first_kind: Option<String> = None;
    for (index, raw) in raw.iter().enumerate() {
        let item = node.item(index);
        let group_field = item.field("group", raw.group.as_ref());
        let group = check
            .required(group_field.as_ref(), item.span(), &GROUP)
            .and_then(|f| check.group(f).map(|g| (g, f.span)));
        let quantity_field = item.field("quantity", raw.quantity.as_ref());
        let quantity = check
            .required(quantity_field.as_ref(), item.span(), &QUANTITY)
            .and_then(|f| check.amount(Some(f), &QUANTITY));
        let (Some((group, span)), Some(quantity)) = (group, quantity) else {
            continue;
        };
        match &first_kind {
            Some(kind) if *kind != group.0 => {
                check.report(
                    codes::ESTATE_VALUE,
                    Some(span),
                    format!(
                        "a license's group assignments are all of one group type: `{kind}` first, then `{}`",
                        group.0
                    ),
                    "another group type",
                    format!("assign this license's entitlements to `{kind}` groups only, or split the license"),
                );
                continue;
            }
            _ => first_kind = Some(group.0.clone()),
        }
        if out.iter().any(|a| a.group == group) {
            check.report(
                codes::ESTATE_DUPLICATE_ID,
                Some(span),
                format!("group `{}={}` is assigned twice", group.0, group.1),
                "second assignment",
                "add the quantities into one assignment",
            );
            continue;
        }
        out.push(Assignment { group, quantity });
    }
    out.sort_by(|a, b| {
        let depth = |x: &Assignment| x.group.1.split('/').count();
        depth(b).cmp(&depth(a)).then_with(|| a.group.cmp(&b.group))
    });
    out
}

/// A license's manual exemptions, sorted; each names one device or one user, once, with a
/// standard `reason` or a `custom` one.
fn exemptions(
    check: &mut Checker,
    references: &mut References,
    node: &Node<'_>,
    raw: &[RawExemption],
) -> Vec<Exemption> {
    let mut out: Vec<Exemption> = Vec::new();
    for (index, raw) in raw.iter().enumerate() {
        let item = node.item(index);
        let Some((target, make, field)) = target_of(
            check,
            &item,
            item.field("device", raw.device.as_ref()),
            item.field("user", raw.user.as_ref()),
            "exemption",
        ) else {
            continue;
        };
        let reason_field = item
            .field("reason", raw.reason.as_ref())
            .filter(|f| f.value().is_some());
        let custom_field = item
            .field("custom", raw.custom.as_ref())
            .filter(|f| f.value().is_some());
        let (reason, custom) = match (reason_field, custom_field) {
            (Some(r), None) => {
                let text = r.text.to_ascii_lowercase();
                if !EXEMPTION_REASONS.contains(&text.as_str()) {
                    check.report(
                        codes::ESTATE_VALUE,
                        Some(r.span),
                        format!("unknown exemption reason `{}`", r.text),
                        "not a standard reason",
                        format!(
                            "{}write one of {}, or give your own text as `custom:` instead of `reason:`",
                            did_you_mean_prefix(&text, EXEMPTION_REASONS.iter().copied()),
                            values::backticked(EXEMPTION_REASONS.iter().copied())
                        ),
                    );
                    continue;
                }
                (text, false)
            }
            (None, Some(c)) => (c.text.to_string(), true),
            (Some(_), Some(c)) => {
                check.report(
                    codes::ESTATE_VALUE,
                    Some(c.span),
                    "exemption gives both a standard and a custom reason",
                    "second reason",
                    "keep `reason:` (a standard reason) or `custom:` (your own text), not both",
                );
                continue;
            }
            (None, None) => {
                check.report(
                    codes::ESTATE_VALUE,
                    Some(item.span()),
                    "exemption gives no reason",
                    "no `reason` or `custom`",
                    format!(
                        "write `reason:` with one of {}, or `custom:` with your own text",
                        values::backticked(EXEMPTION_REASONS.iter().copied())
                    ),
                );
                continue;
            }
        };
        let Some(id) = references.add(target, check.source(), Some(&field)) else {
            continue;
        };
        let noun = target.noun();
        let target = make(id.to_owned());
        if out.iter().any(|e| e.target == target) {
            check.report(
                codes::ESTATE_DUPLICATE_ID,
                Some(field.span),
                format!(
                    "{noun} `{}` is exempted from this license twice",
                    field.text
                ),
                "second exemption",
                "remove one of the two exemptions",
            );
            continue;
        }
        out.push(Exemption {
            target,
            reason,
            custom,
        });
    }
    out.sort();
    out
}

fn second_use(check: &mut Checker, node: &Node<'_>, raw: Option<&RawSecondUse>) -> SecondUse {
    let Some(raw) = raw else {
        return SecondUse::default();
    };
    SecondUse {
        work_laptop: check
            .flag(
                node.field("work_laptop", raw.work_laptop.as_ref()).as_ref(),
                &WORK_LAPTOP,
            )
            .unwrap_or(false),
        home: check
            .flag(node.field("home", raw.home.as_ref()).as_ref(), &HOME)
            .unwrap_or(false),
    }
}

/// What an allocation or exemption names: the kind of record, how to make its target, and the
/// field that names it.
type Named = (Target, fn(String) -> AllocationTarget, Field<'static>);

/// The one device or user an allocation or exemption names; reports a record that names
/// both or neither.
fn target_of(
    check: &mut Checker,
    item: &Node<'_>,
    device: Option<Field<'static>>,
    user: Option<Field<'static>>,
    noun: &str,
) -> Option<Named> {
    let given = |field: Option<Field<'static>>| field.filter(|f| f.value().is_some());
    match (given(device), given(user)) {
        (Some(device), None) => Some((Target::Device, AllocationTarget::Device, device)),
        (None, Some(user)) => Some((Target::User, AllocationTarget::User, user)),
        (Some(_), Some(user)) => {
            check.report(
                codes::ESTATE_VALUE,
                Some(user.span),
                format!("{noun} names both a device and a user"),
                "second target",
                format!("split it into two {noun}s, one with `device:` and one with `user:`"),
            );
            None
        }
        (None, None) => {
            check.report(
                codes::ESTATE_VALUE,
                Some(item.span()),
                format!("{noun} names no device or user"),
                "no `device` or `user`",
                "write `device:` with a device id from `devices.csv`, or `user:` with a user id from `users.csv`",
            );
            None
        }
    }
}
