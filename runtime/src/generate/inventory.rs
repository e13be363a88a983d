//! The estate's machines and people: `devices.csv`, `users.csv` and `evidence.csv`.
//!
//! Every device and user is drawn from a generator of its own ([`Rng::new`] with the
//! device's or user's index), so writing `devices.csv` and then the evidence of the same
//! device gives the same machine both times without holding either.

use std::io::{self, Write};

use jiff::ToSpan;
use jiff::civil::Date;

use super::catalogue::{Catalogue, LINUX_OS, Row, SERVER_OS, Suite, UpdateSeries};
use super::licenses::Line;
use super::{AS_OF, Options, Rng, push_csv_field};

/// The generator streams: one per kind of item, so that items of different kinds never draw
/// the same numbers.
const DEVICE_STREAM: u64 = 1;
const USER_STREAM: u64 = 2;
const EVIDENCE_STREAM: u64 = 3;

/// The machine counts of an estate, and what every index is.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    seed: u64,
    devices: u32,
    /// Hypervisor hosts come first, then physical servers, then virtual machines, then
    /// workstations.
    hosts: u32,
    physical: u32,
    vms: u32,
    pub users: u32,
    /// `last_used` days, `AS_OF` minus 0 to [`LAST_USED_DAYS`] days, formatted once.
    days_before: Vec<String>,
}

const LAST_USED_DAYS: i64 = 400;

/// Where people and machines are: the group path, and the currency of purchases there.
pub(super) const LOCATIONS: [(&str, &str); 10] = [
    ("Europe/DE/Berlin", "EUR"),
    ("Europe/DE/Munich", "EUR"),
    ("Europe/UK/London", "GBP"),
    ("Europe/FR/Paris", "EUR"),
    ("Europe/ES/Madrid", "EUR"),
    ("America/US/New_York", "USD"),
    ("America/US/Chicago", "USD"),
    ("America/CA/Toronto", "USD"),
    ("Asia/SG/Singapore", "USD"),
    ("Asia/JP/Tokyo", "USD"),
];
/// How many people work at each of [`LOCATIONS`].
const LOCATION_WEIGHTS: [u32; 10] = [20, 12, 10, 8, 5, 15, 8, 4, 5, 5];

/// The data centres servers stand in, with their cluster prefix.
const DATA_CENTRES: [(&str, &str); 3] = [
    ("Europe/DE/Frankfurt", "FRA"),
    ("America/US/Ashburn", "IAD"),
    ("Asia/SG/Singapore", "SIN"),
];

const FIRST_NAMES: &[&str] = &[
    "Anna", "Bernd", "Claudia", "Daniel", "Elena", "Felix", "Greta", "Hannah", "Ivan", "Julia",
    "Karim", "Laura", "Marco", "Nina", "Oliver", "Paula", "Quentin", "Rosa", "Stefan", "Tara",
    "Umar", "Vera", "Wei", "Xenia", "Yusuf", "Zoe", "James", "Maria", "Chen", "Aisha", "Lucas",
    "Sofia", "Mateo", "Emma", "Noah", "Mia", "Liam", "Priya", "Kenji", "Fatima",
];

/// Last names as shown, and as written in user ids.
const LAST_NAMES: &[(&str, &str)] = &[
    ("Schmidt", "schmidt"),
    ("Müller", "mueller"),
    ("Fischer", "fischer"),
    ("Weber", "weber"),
    ("Wagner", "wagner"),
    ("Becker", "becker"),
    ("Hoffmann", "hoffmann"),
    ("Schäfer", "schaefer"),
    ("Koch", "koch"),
    ("Richter", "richter"),
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("Garcia", "garcia"),
    ("Martínez", "martinez"),
    ("Rodríguez", "rodriguez"),
    ("López", "lopez"),
    ("Dubois", "dubois"),
    ("Lefèvre", "lefevre"),
    ("Moreau", "moreau"),
    ("Rossi", "rossi"),
    ("Russo", "russo"),
    ("Tanaka", "tanaka"),
    ("Suzuki", "suzuki"),
    ("Wang", "wang"),
    ("Li", "li"),
    ("Zhang", "zhang"),
    ("Kumar", "kumar"),
    ("Singh", "singh"),
    ("Nguyen", "nguyen"),
    ("O'Brien", "obrien"),
    ("Kowalski", "kowalski"),
    ("Novak", "novak"),
    ("Jansen", "jansen"),
    ("de Vries", "devries"),
    ("Andersson", "andersson"),
    ("Nielsen", "nielsen"),
    ("Yilmaz", "yilmaz"),
];

/// Workstation processors: model, cores, threads.
const CLIENT_CPUS: [(&str, u32, u32); 6] = [
    ("Intel(R) Core(TM) i5-13500", 14, 20),
    ("Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz", 6, 12),
    ("Intel(R) Core(TM) i7-1365U", 10, 12),
    ("Intel(R) Core(TM) i5-1245U", 10, 12),
    ("Intel(R) Core(TM) Ultra 7 165U", 12, 14),
    ("AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics", 8, 16),
];

/// Server processors: model, cores per socket.
const SERVER_CPUS: [(&str, u32); 5] = [
    ("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", 32),
    ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", 24),
    ("Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", 16),
    ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", 40),
    ("AMD EPYC 7543 32-Core Processor", 32),
];
const CLOUD_CPU: &str = "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz";

const CLIENT_OS: [(&str, u32); 3] = [
    ("Microsoft Windows 11 Enterprise 23H2 (10.0.22631)", 60),
    ("Microsoft Windows 10 Enterprise 22H2 (10.0.19045)", 35),
    ("Microsoft Windows 11 Enterprise 24H2 (10.0.26100)", 5),
];

/// Server roles, weighted.
const ROLES: [(&str, u32); 4] = [
    ("production", 60),
    ("test", 20),
    ("development", 15),
    ("disaster_recovery", 5),
];

/// The hardware makers, weighted; their tools are [`Catalogue::hardware`].
const MAKER_WEIGHTS: [u32; 3] = [40, 35, 25];

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Desktop,
    Laptop,
    /// A hypervisor host (VMware ESXi), in a cluster.
    Host,
    /// A physical server.
    Server,
    /// A virtual machine on one of the hosts.
    Vm,
    /// A virtual machine in a public cloud.
    CloudVm,
}

/// The operating system a device runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    Client(usize),
    /// An index into [`SERVER_OS`].
    WindowsServer(usize),
    /// An index into [`LINUX_OS`].
    Linux(usize),
    Hypervisor,
}

/// One device, as drawn.
#[derive(Debug, Clone)]
struct Machine {
    id: String,
    kind: Kind,
    system: System,
    processors: u32,
    cores: u32,
    threads: u32,
    max_sockets: u32,
    processor_model: &'static str,
    host: Option<u32>,
    cluster: Option<String>,
    hosted_in: Option<&'static str>,
    purchased: Option<Date>,
    assigned_user: Option<u32>,
    calculated_user: Option<u32>,
    role: &'static str,
    inactive: bool,
    location: &'static str,
    cost_center: u32,
    maker: usize,
}

/// One person.
#[derive(Debug, Clone)]
struct Person {
    id: String,
    name: String,
    status: &'static str,
    location: usize,
    cost_center: u32,
}

/// What the evidence holds that licenses are bought for: the units each product line needs,
/// and some of the devices that need them.
#[derive(Debug, Clone, Default)]
pub(super) struct Demand {
    pub rows: u64,
    /// Units per [`Line`]: installations, or cores for SQL Server.
    pub units: [u64; Line::COUNT],
    /// The first devices found with each line, for allocations and exemptions.
    pub holders: [Vec<Holder>; Line::COUNT],
}

/// A device that has a product line installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Holder {
    pub device: String,
    pub user: Option<String>,
    pub role: &'static str,
}

/// How many holders [`Demand`] keeps per line.
const HOLDERS_KEPT: usize = 48;

impl Plan {
    pub(super) fn new(options: &Options) -> Self {
        let devices = options.devices;
        // 8% servers: a twelfth of them hosts, three quarters of the rest virtual machines.
        let servers = (u64::from(devices) * 8 / 100) as u32;
        let hosts = servers.div_ceil(12);
        let vms = ((u64::from(servers - hosts) * 3) / 4) as u32;
        let physical = servers - hosts - vms;
        // About 1.2 workstations per user.
        let users = ((u64::from(devices - servers) * 5 / 6) as u32).max(1);
        let days_before = (0..=LAST_USED_DAYS)
            .map(|days| {
                AS_OF
                    .checked_sub(days.days())
                    .map_or_else(|_| String::new(), |d| d.to_string())
            })
            .collect();
        Plan {
            seed: options.seed,
            devices,
            hosts,
            physical,
            vms,
            users,
            days_before,
        }
    }

    /// The id of user `index`.
    fn user_id(&self, index: u32) -> String {
        self.person(index).id
    }

    fn person(&self, index: u32) -> Person {
        let mut rng = Rng::new(self.seed, USER_STREAM, u64::from(index));
        let first = *rng.pick(FIRST_NAMES);
        let (last, last_ascii) = *rng.pick(LAST_NAMES);
        let initial = first.chars().next().unwrap_or('x').to_ascii_lowercase();
        let status = match rng.below(1000) {
            0..25 => "retired",
            25..40 => "inactive",
            40..45 => "pending",
            _ => "active",
        };
        Person {
            id: format!("{initial}{last_ascii}{index}"),
            name: format!("{first} {last}"),
            status,
            location: rng.weighted(LOCATION_WEIGHTS),
            cost_center: rng.between(4700, 4899),
        }
    }

    /// Device `index`, drawn.
    fn machine(&self, index: u32) -> Machine {
        let mut rng = Rng::new(self.seed, DEVICE_STREAM, u64::from(index));
        let servers = self.hosts + self.physical + self.vms;
        let kind = if index < self.hosts {
            Kind::Host
        } else if index < self.hosts + self.physical {
            Kind::Server
        } else if index < servers {
            if rng.per_mille(100) {
                Kind::CloudVm
            } else {
                Kind::Vm
            }
        } else {
            Kind::Desktop
        };
        let mut machine = Machine {
            id: String::new(),
            kind,
            system: System::Hypervisor,
            processors: 1,
            cores: 0,
            threads: 0,
            max_sockets: 0,
            processor_model: "",
            host: None,
            cluster: None,
            hosted_in: None,
            purchased: None,
            assigned_user: None,
            calculated_user: None,
            role: "",
            inactive: rng.per_mille(20),
            location: "",
            cost_center: 0,
            maker: rng.weighted(MAKER_WEIGHTS),
        };
        if index >= servers {
            self.workstation(&mut machine, index - servers, &mut rng);
        } else {
            self.server(&mut machine, index, &mut rng);
        }
        let prefix = match machine.kind {
            Kind::Desktop => "WS",
            Kind::Laptop => "LT",
            Kind::Host => "ESX",
            Kind::Server => "SRV",
            Kind::Vm | Kind::CloudVm => "VM",
        };
        machine.id = format!("{prefix}-{index:06}");
        machine
    }

    /// A desktop or laptop: each of the first `users` workstations belongs to its own user;
    /// the rest are second devices (mostly laptops) of some user, or shared desks that only
    /// have a calculated user.
    fn workstation(&self, machine: &mut Machine, number: u32, rng: &mut Rng) {
        let user = if number < self.users {
            machine.kind = if rng.per_mille(450) {
                Kind::Laptop
            } else {
                Kind::Desktop
            };
            machine.assigned_user = Some(number);
            number
        } else {
            let user = rng.below(self.users as usize) as u32;
            if rng.per_mille(200) {
                machine.calculated_user = Some(user);
            } else {
                machine.kind = if rng.per_mille(800) {
                    Kind::Laptop
                } else {
                    Kind::Desktop
                };
                machine.assigned_user = Some(user);
            }
            user
        };
        let person = self.person(user);
        machine.location = LOCATIONS[person.location].0;
        machine.cost_center = person.cost_center;
        machine.system = System::Client(rng.weighted(CLIENT_OS.map(|(_, w)| w)));
        let (model, cores, threads) = *rng.pick(&CLIENT_CPUS);
        machine.processor_model = model;
        machine.cores = cores;
        machine.threads = threads;
        machine.max_sockets = 1;
        machine.purchased = day(2019 + rng.between(0, 7) as i16, rng.between(1, 12), 15);
    }

    /// A server: hosts have two or four sockets of one of [`SERVER_CPUS`]; VMs run on one of
    /// the hosts (in its cluster and data centre) or in a cloud.
    fn server(&self, machine: &mut Machine, index: u32, rng: &mut Rng) {
        machine.role = ROLES[rng.weighted(ROLES.map(|(_, w)| w))].0;
        machine.purchased = day(2017 + rng.between(0, 8) as i16, rng.between(1, 12), 1);
        let windows = rng.per_mille(650);
        machine.system = if windows {
            System::WindowsServer(rng.below(SERVER_OS.len()))
        } else {
            System::Linux(rng.below(LINUX_OS.len()))
        };
        let centre = match machine.kind {
            Kind::Vm => {
                let host = rng.below(self.hosts as usize) as u32;
                let host_machine = self.machine(host);
                machine.host = Some(host);
                machine.cluster = host_machine.cluster;
                machine.processor_model = host_machine.processor_model;
                machine.purchased = None;
                host as usize % DATA_CENTRES.len()
            }
            _ => index as usize % DATA_CENTRES.len(),
        };
        machine.location = DATA_CENTRES[centre].0;
        machine.cost_center = 4740;
        match machine.kind {
            Kind::Host | Kind::Server => {
                let (model, per_socket) = *rng.pick(&SERVER_CPUS);
                let sockets = if machine.kind == Kind::Host && rng.per_mille(200) {
                    4
                } else if machine.kind == Kind::Server && rng.per_mille(300) {
                    1
                } else {
                    2
                };
                let per_socket = if machine.kind == Kind::Server {
                    per_socket / 2
                } else {
                    per_socket
                };
                machine.processor_model = model;
                machine.processors = sockets;
                machine.cores = sockets * per_socket;
                machine.threads = machine.cores * 2;
                machine.max_sockets = if sockets == 4 { 4 } else { 2 };
                if machine.kind == Kind::Host {
                    machine.system = System::Hypervisor;
                    machine.role = "production";
                    let (_, prefix) = DATA_CENTRES[centre];
                    // Four hosts of one data centre to a cluster.
                    let number = index as usize / DATA_CENTRES.len() / 4 + 1;
                    machine.cluster = Some(format!("CL-{prefix}-{number:02}"));
                }
            }
            Kind::Vm | Kind::CloudVm => {
                machine.cores = [2, 4, 4, 8, 8, 16][rng.below(6)];
                machine.processors = if machine.cores >= 8 { 2 } else { 1 };
                machine.threads = machine.cores;
                if machine.kind == Kind::CloudVm {
                    machine.hosted_in = Some(if rng.per_mille(600) { "aws" } else { "azure" });
                    machine.processor_model = CLOUD_CPU;
                    machine.threads = machine.cores * 2;
                }
            }
            Kind::Desktop | Kind::Laptop => {}
        }
    }

    pub(super) fn write_users(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"id,name,status,groups\n")?;
        let mut line = String::new();
        for index in 0..self.users {
            let person = self.person(index);
            line.clear();
            line.push_str(&person.id);
            line.push(',');
            push_csv_field(&mut line, &person.name);
            line.push(',');
            line.push_str(person.status);
            line.push(',');
            line.push_str(&groups(LOCATIONS[person.location].0, person.cost_center));
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    pub(super) fn write_devices(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"id,name,chassis,os,os_type,processors,cores,threads,sockets,max_sockets,processor_model,host,cluster,hosted_in,purchased,assigned_user,calculated_user,role,status,groups\n")?;
        let mut line = String::new();
        for index in 0..self.devices {
            let m = self.machine(index);
            let user = |user: Option<u32>| user.map(|u| self.user_id(u)).unwrap_or_default();
            let (chassis, os, os_type) = match (m.kind, m.system) {
                (Kind::Desktop, System::Client(os)) => ("desktop", CLIENT_OS[os].0, "desktop"),
                (Kind::Laptop, System::Client(os)) => ("laptop", CLIENT_OS[os].0, "desktop"),
                (Kind::Host, _) => ("server", "VMware ESXi 8.0.2", "server"),
                (kind, System::WindowsServer(os)) => (chassis(kind), SERVER_OS[os].0, "server"),
                (kind, System::Linux(os)) => (chassis(kind), LINUX_OS[os].0, "server"),
                (kind, _) => (chassis(kind), "", ""),
            };
            let host = m.host.map(|h| self.machine(h).id).unwrap_or_default();
            let number = |n: u32| if n == 0 { String::new() } else { n.to_string() };
            line.clear();
            let fields: [&str; 20] = [
                &m.id,
                &format!("{}.corp.example.com", m.id.to_lowercase()),
                chassis,
                os,
                os_type,
                &number(m.processors),
                &number(m.cores),
                &number(m.threads),
                &number(m.processors),
                &number(m.max_sockets),
                m.processor_model,
                &host,
                m.cluster.as_deref().unwrap_or_default(),
                m.hosted_in.unwrap_or_default(),
                &m.purchased.map(|d| d.to_string()).unwrap_or_default(),
                &user(m.assigned_user),
                &user(m.calculated_user),
                m.role,
                if m.inactive { "inactive" } else { "active" },
                &groups(m.location, m.cost_center),
            ];
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_csv_field(&mut line, field);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Writes every device's evidence, device by device, and counts the demand for licenses.
    pub(super) fn write_evidence(
        &self,
        out: &mut impl Write,
        catalogue: &Catalogue,
    ) -> io::Result<Demand> {
        out.write_all(super::catalogue::EVIDENCE_HEADER.as_bytes())?;
        let mut writer = EvidenceWriter {
            out,
            demand: Demand::default(),
        };
        for index in 0..self.devices {
            let machine = self.machine(index);
            let mut rng = Rng::new(self.seed, EVIDENCE_STREAM, u64::from(index));
            let user = machine.assigned_user.or(machine.calculated_user);
            let mut device = Device {
                writer: &mut writer,
                machine: &machine,
                user: user.map(|u| self.user_id(u)),
                days_before: &self.days_before,
                written: 0,
            };
            match machine.system {
                System::Client(_) => device.workstation(catalogue, &mut rng)?,
                System::WindowsServer(os) => device.windows_server(catalogue, os, &mut rng)?,
                System::Linux(os) => device.linux_server(catalogue, os, &mut rng)?,
                System::Hypervisor => {}
            }
        }
        Ok(writer.demand)
    }
}

/// The chassis column of a server kind.
fn chassis(kind: Kind) -> &'static str {
    match kind {
        Kind::Vm | Kind::CloudVm => "vm",
        Kind::Desktop => "desktop",
        Kind::Laptop => "laptop",
        Kind::Host | Kind::Server => "server",
    }
}

fn groups(location: &str, cost_center: u32) -> String {
    format!("location={location};cost_center={cost_center}")
}

fn day(year: i16, month: u32, day: i8) -> Option<Date> {
    Date::new(year, month as i8, day).ok()
}

/// Writes evidence rows and tallies the demand they make.
struct EvidenceWriter<'a, W: Write> {
    out: &'a mut W,
    demand: Demand,
}

/// One device's evidence being written.
struct Device<'a, 'w, W: Write> {
    writer: &'a mut EvidenceWriter<'w, W>,
    machine: &'a Machine,
    user: Option<String>,
    days_before: &'a [String],
    /// Rows written for this device so far.
    written: u32,
}

impl<W: Write> Device<'_, '_, W> {
    fn row(&mut self, row: &Row, last_used: &str) -> io::Result<()> {
        let out = &mut self.writer.out;
        out.write_all(self.machine.id.as_bytes())?;
        out.write_all(b",")?;
        out.write_all(row.as_str().as_bytes())?;
        out.write_all(b",")?;
        out.write_all(last_used.as_bytes())?;
        out.write_all(b"\n")?;
        self.writer.demand.rows += 1;
        self.written += 1;
        Ok(())
    }

    /// The common software of the device's kind: each item with its share, in a version
    /// skewed towards the newest.
    fn common(&mut self, items: &[super::catalogue::CommonRows], rng: &mut Rng) -> io::Result<()> {
        let server = !matches!(self.machine.system, System::Client(_));
        for item in items {
            let share = if server {
                item.servers
            } else {
                item.workstations
            };
            if rng.per_mille(share) && !item.rows.is_empty() {
                let row = &item.rows[rng.skewed(item.rows.len())];
                self.row(row, "")?;
            }
        }
        Ok(())
    }

    /// At most one offering of the suite, with its demand; returns the updates it brings.
    fn suite(
        &mut self,
        suite: &Suite,
        share: u32,
        rng: &mut Rng,
    ) -> io::Result<Option<UpdateSeries>> {
        if !rng.per_mille(share) || suite.offerings.is_empty() {
            return Ok(None);
        }
        let choice = rng.weighted(suite.offerings.iter().map(|(w, _)| *w));
        let Some((_, offering)) = suite.offerings.get(choice) else {
            return Ok(None);
        };
        // Most commercial software was used lately; some not for months; some never says.
        let last_used = match rng.below(10) {
            0..7 => self.days_before[rng.below(90)].as_str(),
            7..9 => self.days_before[120 + rng.below(280)].as_str(),
            _ => "",
        };
        for (i, row) in offering.rows.iter().enumerate() {
            self.row(row, if i == 0 { last_used } else { "" })?;
        }
        if let Some(line) = offering.line {
            let units = match line {
                Line::SqlEnterprise | Line::SqlStandard => self.sql_core_units(),
                _ => 1,
            };
            let demand = &mut self.writer.demand;
            demand.units[line.index()] += units;
            let holders = &mut demand.holders[line.index()];
            if holders.len() < HOLDERS_KEPT {
                holders.push(Holder {
                    device: self.machine.id.clone(),
                    user: self.user.clone(),
                    role: self.machine.role,
                });
            }
        }
        Ok(offering.updates)
    }

    /// SQL Server's per-core units for this machine: a VM its virtual cores, at least 4; a
    /// physical server at least 4 per processor; rounded up to 2-core packs.
    fn sql_core_units(&self) -> u64 {
        let m = self.machine;
        let cores = if matches!(m.kind, Kind::Vm | Kind::CloudVm) {
            m.cores.max(4)
        } else {
            let processors = m.processors.max(1);
            processors * (m.cores / processors).max(4)
        };
        u64::from(cores.div_ceil(2) * 2)
    }

    /// A run of `count` consecutive updates of the series, ending at the device's patch
    /// level (recent, mostly).
    fn updates(
        &mut self,
        catalogue: &Catalogue,
        series: UpdateSeries,
        count: usize,
        rng: &mut Rng,
    ) -> io::Result<()> {
        let rows = catalogue.updates(series);
        let level = rows.len() - rng.skewed(rows.len() / 4 + 1).min(rows.len());
        let start = level.saturating_sub(count);
        for row in &rows[start..level] {
            self.row(row, "")?;
        }
        Ok(())
    }

    /// A Windows desktop or laptop: 100 to 200 rows.
    fn workstation(&mut self, catalogue: &Catalogue, rng: &mut Rng) -> io::Result<()> {
        let target = rng.between(100, 200);
        self.common(&catalogue.common, rng)?;
        self.common(&catalogue.hardware[self.machine.maker], rng)?;
        let mut office_updates = None;
        for suite in &catalogue.workstation_suites {
            if let Some(series) = self.suite(suite, suite.share, rng)? {
                office_updates = Some(series);
            }
        }
        if rng.per_mille(40) {
            self.suite(&catalogue.sql_nonproduction, 1000, rng)?;
        }
        self.common(&catalogue.business, rng)?;
        for _ in 0..rng.below(7) {
            let row = rng.pick(&catalogue.tail);
            self.row(row, "")?;
        }
        let left = target.saturating_sub(self.written) as usize;
        let windows = match office_updates {
            Some(series) => {
                let office = left * 3 / 5;
                self.updates(catalogue, series, office, rng)?;
                left - office
            }
            None => left,
        };
        let dotnet = windows / 6;
        self.updates(catalogue, UpdateSeries::DotNet, dotnet, rng)?;
        self.updates(catalogue, UpdateSeries::Windows, windows - dotnet, rng)
    }

    /// A Windows server: its caption, agents and runtimes, SQL Server on some, databases and
    /// middleware on a few, and updates up to 60 to 140 rows.
    fn windows_server(
        &mut self,
        catalogue: &Catalogue,
        os: usize,
        rng: &mut Rng,
    ) -> io::Result<()> {
        let target = rng.between(60, 140);
        if let Some(caption) = catalogue.server_captions.get(os) {
            self.row(caption, "")?;
        }
        self.common(&catalogue.common, rng)?;
        self.common(&catalogue.hardware[self.machine.maker], rng)?;
        match self.machine.role {
            "production" | "disaster_recovery" => {
                self.suite(&catalogue.sql_production, 250, rng)?;
            }
            _ => {
                self.suite(&catalogue.sql_nonproduction, 300, rng)?;
            }
        }
        for suite in &catalogue.server_suites {
            self.suite(suite, suite.share, rng)?;
        }
        let left = target.saturating_sub(self.written) as usize;
        let dotnet = left / 5;
        self.updates(catalogue, UpdateSeries::DotNet, dotnet, rng)?;
        self.updates(catalogue, UpdateSeries::Windows, left - dotnet, rng)
    }

    /// A Linux server: its distribution's base packages (patched or not), some of the
    /// optional ones, and Oracle Database on a few Red Hat servers.
    fn linux_server(&mut self, catalogue: &Catalogue, os: usize, rng: &mut Rng) -> io::Result<()> {
        let patched = usize::from(rng.per_mille(700));
        if let Some(base) = catalogue.linux_base.get(os) {
            for pair in base.chunks(2) {
                if let Some(row) = pair.get(patched).or(pair.first()) {
                    self.row(row, "")?;
                }
            }
        }
        if let Some(optional) = catalogue.linux_optional.get(os) {
            for pair in optional.chunks(2) {
                if rng.per_mille(350)
                    && let Some(row) = pair.get(patched).or(pair.first())
                {
                    self.row(row, "")?;
                }
            }
        }
        let (_, source, ..) = LINUX_OS[os];
        if source == "rpm" && self.machine.role != "development" && rng.per_mille(80) {
            for row in &catalogue.oracle_linux.rows {
                self.row(row, "")?;
            }
        }
        Ok(())
    }
}
