//! The software the generator installs, as evidence rows ready to write: every row is encoded
//! once, as the CSV fields that follow the device id, and a device's rows are picked from
//! these lists.
//!
//! Names and versions are the ones Windows and the package managers report (many taken from
//! the `test` blocks of the standard packs). Each list says what the standard packs make of
//! its rows, which the tests below check: noise, commercial software they recognise, or
//! software they do not know (which the generated rules of [`super::rules`] recognise).

use super::licenses::Line;
use super::{Rng, push_csv_field};

/// The header of the generated `evidence.csv`. Each row is the device id, the fields of a
/// [`Row`], and the `last_used` day (often empty).
pub(super) const EVIDENCE_HEADER: &str = "device,kind,publisher,name,version,product_code,system_component,parent,release_type,class,property,value,architecture,source,last_used\n";

/// One evidence row without its device and `last_used`: the CSV fields in the order of
/// [`EVIDENCE_HEADER`], from `kind` to `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row(Box<str>);

impl Row {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The fields of one row, before encoding.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Fields<'a> {
    pub kind: &'a str,
    pub publisher: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub product_code: &'a str,
    pub system_component: bool,
    pub parent: &'a str,
    pub release_type: &'a str,
    pub class: &'a str,
    pub property: &'a str,
    pub value: &'a str,
    pub architecture: &'a str,
    pub source: &'a str,
}

impl Fields<'_> {
    /// An Add/Remove Programs entry, as Configuration Manager reports it.
    pub(super) fn installer<'a>(publisher: &'a str, name: &'a str, version: &'a str) -> Fields<'a> {
        Fields {
            kind: "installer",
            publisher,
            name,
            version,
            source: "sccm",
            ..Fields::default()
        }
    }

    pub(super) fn encode(&self) -> Row {
        let mut text = String::with_capacity(96);
        let flag = if self.system_component { "true" } else { "" };
        let fields = [
            self.kind,
            self.publisher,
            self.name,
            self.version,
            self.product_code,
            flag,
            self.parent,
            self.release_type,
            self.class,
            self.property,
            self.value,
            self.architecture,
            self.source,
        ];
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            push_csv_field(&mut text, field);
        }
        Row(text.into_boxed_str())
    }
}

/// A name with its version put in: `{v}` is the version, `{v3}` and `{v2}` its first three
/// and two dot-separated components.
fn with_version(template: &str, version: &str) -> String {
    let leading = |n: usize| version.split('.').take(n).collect::<Vec<_>>().join(".");
    template
        .replace("{v3}", &leading(3))
        .replace("{v2}", &leading(2))
        .replace("{v}", version)
}

/// Software found on a share of machines: each machine has it or not, in one version.
struct Common {
    publisher: &'static str,
    /// The name, with the version put in (see [`with_version`]).
    name: &'static str,
    /// Versions, newest (most frequent) first, separated by spaces.
    versions: &'static str,
    /// Per mille of workstations and of Windows servers that have it.
    workstations: u16,
    servers: u16,
    /// Windows hides the entry (`SystemComponent` = 1).
    hidden: bool,
}

const fn common(
    publisher: &'static str,
    name: &'static str,
    versions: &'static str,
    workstations: u16,
    servers: u16,
) -> Common {
    Common {
        publisher,
        name,
        versions,
        workstations,
        servers,
        hidden: false,
    }
}

const fn hidden(
    publisher: &'static str,
    name: &'static str,
    versions: &'static str,
    workstations: u16,
    servers: u16,
) -> Common {
    Common {
        hidden: true,
        ..common(publisher, name, versions, workstations, servers)
    }
}

const MS: &str = "Microsoft Corporation";

/// Noise the standard packs ignore: hidden runtime parts, drivers, language packs.
#[rustfmt::skip]
const NOISE: &[Common] = &[
    hidden(MS, "Microsoft Visual C++ 2022 X64 Minimum Runtime - {v3}", "14.40.33810 14.38.33135 14.36.32532 14.34.31938", 930, 900),
    hidden(MS, "Microsoft Visual C++ 2022 X64 Additional Runtime - {v3}", "14.40.33810 14.38.33135 14.36.32532 14.34.31938", 930, 900),
    hidden(MS, "Microsoft Visual C++ 2022 X86 Minimum Runtime - {v3}", "14.40.33810 14.38.33135 14.36.32532", 880, 700),
    hidden(MS, "Microsoft Visual C++ 2022 X86 Additional Runtime - {v3}", "14.40.33810 14.38.33135 14.36.32532", 880, 700),
    hidden(MS, "Microsoft Visual C++ 2013 x64 Minimum Runtime - {v3}", "12.0.40664 12.0.30501", 600, 500),
    hidden(MS, "Microsoft Visual C++ 2013 x64 Additional Runtime - {v3}", "12.0.40664 12.0.30501", 600, 500),
    hidden(MS, "Microsoft Visual C++ 2012 x64 Minimum Runtime - {v3}", "11.0.61030", 500, 400),
    hidden(MS, "Microsoft Visual C++ 2012 x64 Additional Runtime - {v3}", "11.0.61030", 500, 400),
    hidden(MS, "Microsoft Visual C++ 2010  x64 Redistributable Setup", "10.0.40219", 50, 50),
    hidden(MS, "Microsoft Office Shared MUI (English) 2016", "16.0.4266.1001", 120, 0),
    hidden(MS, "Office 16 Click-to-Run Extensibility Component", "16.0.17928.20216 16.0.17726.20160 16.0.17531.20190", 700, 20),
    hidden(MS, "Office 16 Click-to-Run Localization Component", "16.0.17928.20216 16.0.17726.20160 16.0.17531.20190", 700, 20),
    hidden(MS, "Office 16 Click-to-Run Licensing Component", "16.0.17928.20216 16.0.17726.20160", 650, 20),
    hidden(MS, "Windows SDK AddOn", "10.1.0.0", 80, 20),
    hidden(MS, "Microsoft Policy Platform", "68.1.1010.0", 700, 600),
    hidden(MS, "Microsoft Intune Management Extension", "1.82.103.0 1.80.109.0", 420, 0),
    hidden("Intel Corporation", "Intel(R) Management Engine Components", "2306.4.3.0 2229.3.3.0", 420, 0),
    hidden("Intel(R) Corporation", "Intel(R) Serial IO", "30.100.2229.5 30.100.2031.2", 300, 0),
    common("Intel Corporation", "Intel(R) Chipset Device Software", "10.1.19263.8193 10.1.18836.8283 10.1.19222.8341", 720, 200),
    common("Intel Corporation", "Intel(R) Graphics Driver", "31.0.101.5186 31.0.101.4953 30.0.101.1340 27.20.100.9664", 480, 0),
    common("Intel Corporation", "Intel(R) Network Connections Drivers", "28.2.0.0 27.8.0.0", 350, 150),
    common("Intel Corporation", "Intel(R) Wireless Bluetooth(R) Driver", "23.60.5.2 23.30.0.3", 330, 0),
    common("Realtek Semiconductor Corp.", "Realtek High Definition Audio Driver", "6.0.9239.1 6.0.9088.1 6.0.8924.1", 600, 0),
    common("Realtek Semiconductor Corp.", "Realtek USB Audio Driver", "6.3.9600.2331", 120, 0),
    common("Realtek Semiconductor Corp.", "Realtek Card Reader Driver", "10.0.22000.21355", 180, 0),
    common("NVIDIA Corporation", "NVIDIA Graphics Driver {v}", "551.86 546.33 537.70 528.92", 160, 0),
    common("Synaptics Incorporated", "Synaptics Pointing Device Driver", "19.5.35.1 19.3.31.35", 180, 0),
    common("Intel Corporation", "Windows Driver Package - Intel Corporation (e1dexpress) Net  (06/14/2017 12.15.25.6)", "06/14/2017 12.15.25.6", 120, 40),
    common("Dell Inc.", "Windows Driver Package - Dell Inc. (DDDriver) System  (04/12/2022 2.0.0.9)", "04/12/2022 2.0.0.9", 100, 0),
    common(MS, "Microsoft Office Proofing Tools 2016 - Deutsch", "16.0.4266.1001", 60, 0),
    common(MS, "Microsoft Office Proofing Tools 2016 - Français", "16.0.4266.1001", 30, 0),
    common(MS, "Microsoft Office Language Pack 2016 - German/Deutsch", "16.0.4266.1001", 40, 0),
    common("Google LLC", "Google Update Helper", "1.3.36.372 1.3.36.352", 450, 60),
    common("Mozilla", "Mozilla Maintenance Service", "133.0.3 128.5.1", 280, 20),
    common("Adobe Inc.", "Adobe Refresh Manager", "1.8.0", 400, 10),
    common("Adobe Inc.", "Adobe Genuine Service", "8.4.0.5 8.3.0.23", 150, 0),
];

/// Free runtimes, browsers and utilities; the standard packs recognise some as freeware.
#[rustfmt::skip]
const FREEWARE: &[Common] = &[
    common(MS, "Microsoft Visual C++ 2015-2022 Redistributable (x64) - {v3}", "14.40.33810.0 14.38.33135.0 14.36.32532.0 14.34.31938.0 14.32.31332.0", 950, 920),
    common(MS, "Microsoft Visual C++ 2015-2022 Redistributable (x86) - {v3}", "14.40.33810.0 14.38.33135.0 14.36.32532.0 14.34.31938.0", 900, 700),
    common(MS, "Microsoft Visual C++ 2015-2019 Redistributable (x64) - {v3}", "14.29.30133.0 14.28.29914.0", 150, 200),
    common(MS, "Microsoft Visual C++ 2013 Redistributable (x64) - {v3}", "12.0.40664.0 12.0.30501.0", 620, 500),
    common(MS, "Microsoft Visual C++ 2013 Redistributable (x86) - {v3}", "12.0.40664.0 12.0.30501.0", 600, 400),
    common(MS, "Microsoft Visual C++ 2012 Redistributable (x64) - {v3}", "11.0.61030.0 11.0.50727.1", 520, 400),
    common(MS, "Microsoft Visual C++ 2012 Redistributable (x86) - {v3}", "11.0.61030.0", 500, 300),
    common(MS, "Microsoft Visual C++ 2010  x64 Redistributable - {v3}", "10.0.40219", 550, 450),
    common(MS, "Microsoft Visual C++ 2010  x86 Redistributable - {v3}", "10.0.40219", 580, 400),
    common(MS, "Microsoft Visual C++ 2008 Redistributable - x64 {v}", "9.0.30729.6161 9.0.30729.4148", 420, 300),
    common(MS, "Microsoft Visual C++ 2008 Redistributable - x86 {v}", "9.0.30729.6161 9.0.30729.4148", 480, 300),
    common(MS, "Microsoft Visual C++ 2005 Redistributable (x64)", "8.0.61000 8.0.59192", 220, 150),
    common(MS, "Microsoft Visual C++ 2005 Redistributable", "8.0.61001 8.0.59193", 280, 150),
    common(MS, "Microsoft .NET Framework 4.8.1", "4.8.09032 4.8.09037", 300, 200),
    common(MS, "Microsoft .NET Runtime - {v3} (x64)", "8.0.11.34221 8.0.8.33923 6.0.36.34217 6.0.33.33912 7.0.20.33720", 520, 450),
    common(MS, "Microsoft Windows Desktop Runtime - {v3} (x64)", "8.0.11.34221 8.0.8.33923 6.0.36.34217 6.0.33.33912", 460, 200),
    common(MS, "Microsoft ASP.NET Core {v3} - Shared Framework (x64)", "8.0.11.24521 8.0.8.24416 6.0.36.24516", 150, 400),
    common(MS, "Microsoft Edge", "131.0.2903.70 131.0.2903.63 130.0.2849.80 129.0.2792.89 128.0.2739.79 127.0.2651.105", 985, 700),
    common(MS, "Microsoft Edge WebView2 Runtime", "131.0.2903.70 130.0.2849.80 129.0.2792.89", 950, 600),
    common("Google LLC", "Google Chrome", "131.0.6778.86 131.0.6778.70 130.0.6723.117 130.0.6723.92 129.0.6668.101 128.0.6613.138 126.0.6478.127 120.0.6099.225", 680, 120),
    common("Mozilla", "Mozilla Firefox (x64 en-US)", "133.0.3 133.0 132.0.2 131.0.3 128.5.1", 240, 30),
    common("Mozilla", "Mozilla Firefox ESR (x64 de)", "128.5.1 128.4.0 115.18.0", 70, 10),
    common("Igor Pavlov", "7-Zip {v} (x64)", "24.08 24.07 23.01 22.01 19.00", 460, 380),
    common("Notepad++ Team", "Notepad++ (64-bit x64)", "8.7.4 8.7.1 8.6.9 8.6.2 8.5.8 8.4.6", 360, 420),
    common("VideoLAN", "VLC media player", "3.0.21 3.0.20 3.0.18", 280, 0),
    common("Simon Tatham", "PuTTY release {v} (64-bit)", "0.82.0.0 0.81.0.0 0.80.0.0 0.78.0.0", 130, 300),
    common("Martin Prikryl", "WinSCP {v3}", "6.3.6 6.3.5 6.1.2 5.21.8", 140, 250),
    common("The Git Development Community", "Git", "2.47.1 2.46.0 2.45.2 2.43.0", 140, 100),
    common("Adobe Inc.", "Adobe Acrobat Reader (64-bit)", "24.005.20320 24.004.20220 24.003.20180 23.008.20470", 520, 120),
    common("Adobe Systems Incorporated", "Adobe Acrobat Reader DC", "22.003.20282 21.011.20039", 120, 60),
    common("Zoom Video Communications, Inc.", "Zoom Workplace (64-bit)", "6.2.11.49383 6.2.5.46720 6.1.11.45437", 330, 0),
    common("Zoom Video Communications, Inc.", "Zoom(64bit)", "5.17.11.34827 5.16.10.26186", 90, 0),
    common("Zoom Video Communications, Inc.", "Zoom Outlook Plugin", "5.17.0 5.16.0", 60, 0),
    common("Citrix Systems, Inc.", "Citrix Workspace 2409", "24.9.0.225 24.9.0.133", 120, 10),
    common("Citrix Systems, Inc.", "Citrix Workspace 2402 LTSR", "24.2.1000.1016", 80, 10),
    common("Oracle Corporation", "Java 8 Update 431 (64-bit)", "8.0.4310.10", 70, 60),
    common("Oracle Corporation", "Java 8 Update 381 (64-bit)", "8.0.3810.9", 60, 60),
    common("Oracle Corporation", "Java 8 Update 211", "8.0.2110.12", 40, 20),
    common(MS, "Microsoft Visio Viewer 2016", "16.0.4339.1001", 140, 0),
    common("VMware, Inc.", "VMware Horizon Client", "8.12.0.23149 8.10.0.21964", 90, 0),
    common("Dominik Reichl", "KeePass Password Safe {v}", "2.57 2.56 2.54", 90, 40),
    common("Greenshot", "Greenshot {v}", "1.2.10.6 1.2.9.129", 110, 0),
    common("Tim Kosse", "FileZilla {v}", "3.68.1 3.67.1 3.66.5", 70, 80),
    common("Irfan Skiljan", "IrfanView {v} (64-bit)", "4.67 4.66 4.62", 80, 0),
    common("geek software GmbH", "PDF24 Creator", "11.22.0 11.19.0 11.15.2", 110, 0),
    common("Foxit Software Inc.", "Foxit PDF Reader", "2024.3.0.26795 2024.2.3.25184", 70, 0),
    common("TeamViewer", "TeamViewer", "15.60.3 15.59.5 15.51.6", 140, 120),
    common("The GIMP Team", "GIMP {v}", "2.10.38 2.10.36", 40, 0),
    common("Python Software Foundation", "Python {v} (64-bit)", "3.12.7 3.12.4 3.11.9 3.10.11", 90, 90),
    common(MS, "Microsoft Visual Studio Code", "1.95.3 1.94.2 1.93.1", 100, 40),
    common("VMware, Inc.", "VMware Tools", "12.4.5.23787635 12.3.5.22544099", 0, 640),
];

/// Parts of Windows, agents and vendor tools the standard packs do not know.
#[rustfmt::skip]
const UNKNOWN: &[Common] = &[
    common(MS, "Configuration Manager Client", "5.00.9128.1000 5.00.9122.1000 5.00.9106.1000", 975, 920),
    common(MS, "Microsoft Update Health Tools", "5.72.0.0 3.74.0.0 2.92.0.0", 900, 400),
    common(MS, "Teams Machine-Wide Installer", "1.7.0.13456 1.6.0.27573 1.5.0.30767", 520, 0),
    common(MS, "Microsoft OneDrive", "24.211.1020.0001 24.201.1006.0005 24.186.0915.0004", 840, 60),
    common(MS, "Microsoft Edge Update", "1.3.195.31 1.3.187.41", 180, 60),
    common(MS, "Local Administrator Password Solution", "6.2.0.0", 480, 500),
    common(MS, "Windows PC Health Check", "3.6.2204.08001 3.2.2110.14001", 300, 0),
    common(MS, "Microsoft GameInput", "10.1.26100.4042", 220, 0),
    common(MS, "Microsoft Search in Bing", "2.0.2", 140, 0),
    common(MS, "Microsoft Power BI Desktop (x64)", "2.138.1452.0 2.137.1102.0 2.136.1202.0", 80, 10),
    common(MS, "Microsoft Azure CLI", "2.67.0 2.63.0", 30, 120),
    common(MS, "Microsoft ODBC Driver 17 for SQL Server", "17.10.6.1 17.10.5.1", 120, 380),
    common(MS, "Microsoft OLE DB Driver for SQL Server", "18.7.4.0 18.6.7.0", 70, 300),
    common(MS, "SQL Server Management Studio", "20.2.30.0 19.3.4.0", 60, 260),
    common(MS, "Microsoft Monitoring Agent", "10.20.18069.0 10.20.18067.0", 0, 600),
    common(MS, "Azure Connected Machine Agent", "1.47.02829.1844 1.45.02771.1732", 0, 300),
    common(MS, "Remote Desktop Connection Manager", "2.93.2044.0", 40, 150),
    common("CrowdStrike, Inc.", "CrowdStrike Windows Sensor", "7.19.18913.0 7.18.18806.0 7.16.18613.0", 880, 900),
    common("Cisco Systems, Inc.", "Cisco Secure Client - AnyConnect VPN", "5.1.6.103 5.1.4.74 5.1.2.42", 640, 0),
    common("Cisco Systems, Inc.", "Cisco Webex Meetings", "44.10.2 43.12.0", 110, 0),
    common("Zscaler Inc.", "Zscaler", "4.5.0.344 4.4.0.324 4.3.0.226", 380, 0),
    common("Qualys, Inc.", "Qualys Cloud Security Agent", "5.8.0.31 5.7.0.71", 560, 800),
    common("Splunk, Inc.", "UniversalForwarder", "9.3.2.0 9.2.1.0", 80, 650),
    common("Tanium Inc.", "Tanium Client", "7.6.2.1218 7.4.10.1060", 260, 300),
    common("Palo Alto Networks", "GlobalProtect", "6.2.5 6.2.1 6.1.4", 180, 0),
    common("Tenable, Inc.", "Nessus Agent (x64)", "10.7.3 10.6.2", 120, 400),
    common("Rapid7, Inc.", "Rapid7 Insight Agent", "4.0.13.32 4.0.9.38", 100, 350),
    common("Veeam Software Group GmbH", "Veeam Agent for Microsoft Windows", "6.2.0.121 6.1.2.134", 0, 300),
    common("Realtek", "Realtek Audio Console", "1.41.259.0", 110, 0),
    common("Microsoft Corporation", "Microsoft Teams Meeting Add-in for Microsoft Office", "1.24.33707 1.24.27102", 450, 0),
    common("SAP SE", "SAP GUI for Windows 8.00  (Patch 8)", "8.00.8 8.00.5", 150, 10),
    common("SAP SE", "SAP Business Client 8.0", "8.00.11 8.00.7", 40, 0),
];

/// Tools of the hardware makers, each on that maker's machines only; unknown to the
/// standard packs.
#[rustfmt::skip]
const HARDWARE_TOOLS: [(&str, &[Common]); 3] = [
    (
        "Dell",
        &[
            common("Dell Inc.", "Dell Command | Update for Windows Universal", "5.4.0 5.2.0 4.9.0", 850, 0),
            common("Dell Inc.", "Dell SupportAssist", "4.4.2.27505 4.0.3.52436", 600, 0),
            common("Dell Inc.", "Dell Optimizer Service", "4.2.3.0 4.2.1.0", 300, 0),
            common("Dell Inc.", "Dell Trusted Device Agent", "5.4.0.9 5.3.0.1", 400, 0),
            common("Dell Inc.", "Dell OpenManage Server Administrator", "11.0.1.0 10.3.0.0", 0, 600),
        ],
    ),
    (
        "HP",
        &[
            common("HP Inc.", "HP Support Assistant", "9.34.19.0 9.31.9.0", 700, 0),
            common("HP Inc.", "HP Wolf Security", "4.6.3.470 4.6.1.470", 550, 0),
            common("HP Inc.", "HP Connection Optimizer", "2.0.21.0 2.0.20.0", 500, 0),
            common("HP Inc.", "HP Notifications", "1.1.30.1 1.1.28.1", 450, 0),
        ],
    ),
    (
        "Lenovo",
        &[
            common("Lenovo Group Ltd.", "Lenovo Vantage Service", "4.1.59.0 3.13.43.0", 800, 0),
            common("Lenovo", "Lenovo System Interface Foundation", "1.1.20.3 1.1.19.3", 750, 0),
            common("Lenovo Group Ltd.", "Lenovo Commercial Vantage", "10.2401.25.0 10.2312.14.0", 500, 0),
        ],
    ),
];

/// Commercial software that the standard packs recognise, with the rows an installation
/// leaves; `line` is the product line licenses are bought for, if any.
pub(super) struct Offering {
    /// The application the standard packs recognise from the rows.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests check that the packs recognise it")
    )]
    pub application: String,
    pub line: Option<Line>,
    pub rows: Vec<Row>,
    /// The Office update series the installation brings (MSI Office only).
    pub updates: Option<UpdateSeries>,
}

/// A choice of at most one offering per machine: `share` per mille of machines have one,
/// drawn by weight.
pub(super) struct Suite {
    pub share: u32,
    pub offerings: Vec<(u32, Offering)>,
}

/// A group of update rows that accumulate on a machine over time: a machine has a run of
/// them up to its patch level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UpdateSeries {
    Windows,
    DotNet,
    Office2016,
    Office2013,
}

impl UpdateSeries {
    pub(super) const ALL: [UpdateSeries; 4] = [
        Self::Windows,
        Self::DotNet,
        Self::Office2016,
        Self::Office2013,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Every piece of software, encoded.
pub(super) struct Catalogue {
    /// Software on a share of machines, each with its versions' rows.
    pub common: Vec<CommonRows>,
    /// The updates of each [`UpdateSeries`], oldest first.
    pub updates: [Vec<Row>; 4],
    /// Office and the other suites of the workstations.
    pub workstation_suites: Vec<Suite>,
    /// Windows servers: database and middleware.
    pub server_suites: Vec<Suite>,
    /// SQL Server by edition and release: production servers, and test and development ones.
    pub sql_production: Suite,
    pub sql_nonproduction: Suite,
    /// Oracle Database 19c on Linux, from its RPM, with its preparation package.
    pub oracle_linux: Offering,
    /// The hardware makers' tools, per maker in [`HARDWARE_TOOLS`] order.
    pub hardware: Vec<Vec<CommonRows>>,
    /// In-house and niche business software: a share of workstations each.
    pub business: Vec<CommonRows>,
    /// The long tail: rows each of which only a few machines have.
    pub tail: Vec<Row>,
    /// Windows Server's WMI caption rows, one per [`SERVER_OS`].
    pub server_captions: Vec<Row>,
    /// Linux packages per distribution in [`LINUX_OS`]: always there, and optional.
    pub linux_base: Vec<Vec<Row>>,
    pub linux_optional: Vec<Vec<Row>>,
    /// What the rule generator may recognise: the names of software the standard packs do not
    /// know, with their publisher and versions; the everyday agents, components and tools
    /// first, then business software, then the long tail.
    pub unknown_products: Vec<UnknownProduct>,
    /// How many of `unknown_products` are everyday software, found on most machines.
    pub everyday_unknown: usize,
}

/// The rows of one piece of common software, one per version, and its shares.
pub(super) struct CommonRows {
    pub rows: Vec<Row>,
    pub workstations: u32,
    pub servers: u32,
}

/// Software the standard packs do not know, as the rule generator describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnknownProduct {
    pub publisher: String,
    pub name: String,
    /// The versions rows carry, newest first.
    pub versions: Vec<String>,
}

/// Windows Server releases: the `os` column, and the WMI caption.
pub(super) const SERVER_OS: [(&str, &str); 5] = [
    (
        "Microsoft Windows Server 2022 Standard (10.0.20348)",
        "Microsoft Windows Server 2022 Standard",
    ),
    (
        "Microsoft Windows Server 2022 Datacenter (10.0.20348)",
        "Microsoft Windows Server 2022 Datacenter",
    ),
    (
        "Microsoft Windows Server 2019 Standard (10.0.17763)",
        "Microsoft Windows Server 2019 Standard",
    ),
    (
        "Microsoft Windows Server 2019 Datacenter (10.0.17763)",
        "Microsoft Windows Server 2019 Datacenter",
    ),
    (
        "Microsoft Windows Server 2016 Standard (10.0.14393)",
        "Microsoft Windows Server 2016 Standard",
    ),
];

/// Linux distributions: the `os` column, the package source, the architecture, the vendor,
/// and the release suffix of package versions.
pub(super) const LINUX_OS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "Red Hat Enterprise Linux 9.4 (Plow)",
        "rpm",
        "x86_64",
        "Red Hat, Inc.",
        ".el9",
    ),
    (
        "Red Hat Enterprise Linux 8.10 (Ootpa)",
        "rpm",
        "x86_64",
        "Red Hat, Inc.",
        ".el8",
    ),
    (
        "Ubuntu 22.04.5 LTS",
        "dpkg",
        "amd64",
        "Ubuntu Developers",
        "ubuntu0.22.04",
    ),
];

impl Catalogue {
    pub(super) fn new() -> Self {
        let mut unknown_products = Vec::new();
        let mut common: Vec<CommonRows> = NOISE.iter().chain(FREEWARE).map(encode).collect();
        for list in std::iter::once(UNKNOWN).chain(HARDWARE_TOOLS.iter().map(|(_, tools)| *tools)) {
            unknown_products.extend(list.iter().map(|item| {
                UnknownProduct {
                    publisher: item.publisher.to_owned(),
                    name: item.name.to_owned(),
                    versions: item
                        .versions
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                }
            }));
        }
        let everyday_unknown = unknown_products.len();
        common.extend(UNKNOWN.iter().map(encode));
        let hardware = HARDWARE_TOOLS
            .iter()
            .map(|(_, tools)| tools.iter().map(encode).collect())
            .collect();
        let business = business_software(&mut unknown_products);
        let tail = long_tail(&mut unknown_products);
        Catalogue {
            common,
            updates: UpdateSeries::ALL.map(update_rows),
            workstation_suites: workstation_suites(),
            server_suites: server_suites(),
            sql_production: sql_suite(&[
                (30, "Standard"),
                (12, "Enterprise"),
                (3, "Web"),
                (2, "Express"),
            ]),
            sql_nonproduction: sql_suite(&[(30, "Developer"), (8, "Express"), (6, "Standard")]),
            oracle_linux: oracle_linux(),
            hardware,
            business,
            tail,
            server_captions: SERVER_OS
                .iter()
                .map(|(_, caption)| {
                    Fields {
                        kind: "wmi",
                        class: "Win32_OperatingSystem",
                        property: "Caption",
                        value: caption,
                        source: "sccm",
                        ..Fields::default()
                    }
                    .encode()
                })
                .collect(),
            linux_base: LINUX_OS.iter().map(|os| linux_rows(os, true)).collect(),
            linux_optional: LINUX_OS.iter().map(|os| linux_rows(os, false)).collect(),
            unknown_products,
            everyday_unknown,
        }
    }

    pub(super) fn updates(&self, series: UpdateSeries) -> &[Row] {
        &self.updates[series.index()]
    }
}

/// The rows of a piece of common software, one per version.
fn encode(item: &Common) -> CommonRows {
    CommonRows {
        rows: item
            .versions
            .split_whitespace()
            .map(|version| {
                let name = with_version(item.name, version);
                Fields {
                    system_component: item.hidden,
                    ..Fields::installer(item.publisher, &name, version)
                }
                .encode()
            })
            .collect(),
        workstations: u32::from(item.workstations),
        servers: u32::from(item.servers),
    }
}

/// The update rows of a series, oldest first: KB numbers rise with time.
fn update_rows(series: UpdateSeries) -> Vec<Row> {
    // (publisher, name before the KB number, after it, first KB, how many, parent, release type)
    let parts: &[(&str, &str, &str, u32, u32, &str, &str)] = match series {
        UpdateSeries::Windows => &[
            (
                MS,
                "Security Update for Microsoft Windows (KB",
                ")",
                5_001_330,
                420,
                "",
                "",
            ),
            (
                MS,
                "Update for Microsoft Windows (KB",
                ")",
                5_001_716,
                260,
                "",
                "",
            ),
            (
                MS,
                "Hotfix for Microsoft Windows (KB",
                ")",
                5_003_791,
                60,
                "",
                "",
            ),
        ],
        UpdateSeries::DotNet => &[
            (
                MS,
                "Security Update for Microsoft .NET Framework 4.8.1 (KB",
                ")",
                5_029_915,
                90,
                "",
                "Security Update",
            ),
            (
                MS,
                "Update for Microsoft .NET Framework 4.8 (KB",
                ")",
                5_011_048,
                60,
                "",
                "Update",
            ),
        ],
        UpdateSeries::Office2016 => &[
            (
                MS,
                "Security Update for Microsoft Office 2016 (KB",
                ") 64-Bit Edition",
                5_002_040,
                420,
                "",
                "",
            ),
            (
                MS,
                "Update for Microsoft Office 2016 (KB",
                ") 64-Bit Edition",
                5_001_982,
                300,
                "",
                "",
            ),
            (
                MS,
                "Security Update for Microsoft Excel 2016 (KB",
                ") 64-Bit Edition",
                5_002_116,
                120,
                "",
                "",
            ),
            (
                MS,
                "Update for Skype for Business 2016 (KB",
                ") 64-Bit Edition",
                5_002_181,
                120,
                "",
                "",
            ),
            (
                MS,
                "Security Update for Microsoft Outlook 2016 (KB",
                ") 64-Bit Edition",
                5_002_254,
                90,
                "",
                "",
            ),
            (
                MS,
                "Update for Microsoft OneNote 2016 (KB",
                ") 64-Bit Edition",
                5_002_307,
                60,
                "",
                "",
            ),
        ],
        UpdateSeries::Office2013 => &[
            (
                MS,
                "Security Update for Microsoft Office 2013 (KB",
                ") 32-Bit Edition",
                4_484_117,
                300,
                "",
                "",
            ),
            (
                MS,
                "Update for Microsoft Office 2013 (KB",
                ") 32-Bit Edition",
                4_484_119,
                240,
                "",
                "",
            ),
        ],
    };
    // The parts' updates interleaved in KB order, as they were released.
    let mut numbered: Vec<(u32, Row)> = Vec::new();
    for &(publisher, before, after, first, count, parent, release_type) in parts {
        for k in 0..count {
            // KB numbers of one product are not consecutive: others' updates fall between.
            let kb = first + k * 37 + (k * k) % 29;
            let name = format!("{before}{kb}{after}");
            let row = Fields {
                parent,
                release_type,
                ..Fields::installer(publisher, &name, "")
            }
            .encode();
            numbered.push((kb, row));
        }
    }
    numbered.sort_by_key(|(kb, _)| *kb);
    numbered.into_iter().map(|(_, row)| row).collect()
}

/// Office language tags that Click-to-Run names end in.
const OFFICE_LANGUAGES: [&str; 7] = [
    "en-us", "de-de", "fr-fr", "es-es", "it-it", "nl-nl", "ja-jp",
];

/// An offering of one row per language: a Click-to-Run product.
fn click_to_run(
    application: &str,
    line: Option<Line>,
    name: &str,
    version: &str,
    language: &str,
) -> Offering {
    let name = format!("{name} - {language}");
    Offering {
        application: application.to_owned(),
        line,
        rows: vec![Fields::installer(MS, &name, version).encode()],
        updates: None,
    }
}

/// An MSI Office product: its entry, and the hidden parts beside it.
fn msi_office(
    application: &str,
    line: Option<Line>,
    name: &str,
    version: &str,
    product_code: &str,
    updates: UpdateSeries,
) -> Offering {
    let year = name.rsplit(' ').next().unwrap_or_default();
    let mut rows = vec![
        Fields {
            product_code,
            ..Fields::installer(MS, name, version)
        }
        .encode(),
    ];
    for part in [
        format!("Microsoft Office Shared Setup Metadata MUI (English) {year}"),
        format!("Microsoft Office 64-bit Components {year}"),
    ] {
        rows.push(
            Fields {
                system_component: true,
                ..Fields::installer(MS, &part, version)
            }
            .encode(),
        );
    }
    Offering {
        application: application.to_owned(),
        line,
        rows,
        updates: Some(updates),
    }
}

/// An offering of plain installer rows from one publisher.
fn plain(
    application: &str,
    line: Option<Line>,
    publisher: &str,
    entries: &[(&str, &str)],
) -> Offering {
    Offering {
        application: application.to_owned(),
        line,
        rows: entries
            .iter()
            .map(|(name, version)| Fields::installer(publisher, name, version).encode())
            .collect(),
        updates: None,
    }
}

/// An Office Click-to-Run product: weight, application, line, name, version.
type ClickToRun = (u32, &'static str, Option<Line>, &'static str, &'static str);

/// Office Click-to-Run products, in every language of [`OFFICE_LANGUAGES`].
#[rustfmt::skip]
const OFFICE_CLICK_TO_RUN: &[ClickToRun] = &[
    (240, "microsoft.office.professional_plus_2019", Some(Line::OfficeProPlus), "Microsoft Office Professional Plus 2019", "16.0.10417.20007"),
    (100, "microsoft.office.professional_plus_2021", Some(Line::OfficeProPlus), "Microsoft Office LTSC Professional Plus 2021", "16.0.14332.20791"),
    (90, "microsoft.office.standard_2019", Some(Line::OfficeStandard), "Microsoft Office Standard 2019", "16.0.10417.20007"),
    (40, "microsoft.office.standard_2021", Some(Line::OfficeStandard), "Microsoft Office LTSC Standard 2021", "16.0.14332.20791"),
    (230, "microsoft.m365_apps.enterprise", None, "Microsoft 365 Apps for enterprise", "16.0.17928.20216"),
    (24, "microsoft.office.home_business_2021", None, "Microsoft Office Home and Business 2021", "16.0.17928.20216"),
];

/// An Office MSI product: weight, application, line, name, version, product code, updates.
type MsiProduct = (
    u32,
    &'static str,
    Option<Line>,
    &'static str,
    &'static str,
    &'static str,
    UpdateSeries,
);

/// Office MSI products.
#[rustfmt::skip]
const OFFICE_MSI: &[MsiProduct] = &[
    (150, "microsoft.office.professional_plus_2016", Some(Line::OfficeProPlus), "Microsoft Office Professional Plus 2016", "16.0.4266.1001", "{90160000-0011-0000-1000-0000000FF1CE}", UpdateSeries::Office2016),
    (50, "microsoft.office.standard_2016", Some(Line::OfficeStandard), "Microsoft Office Standard 2016", "16.0.4266.1001", "{90160000-0012-0000-1000-0000000FF1CE}", UpdateSeries::Office2016),
    (40, "microsoft.office.professional_plus_2013", Some(Line::OfficeProPlus), "Microsoft Office Professional Plus 2013", "15.0.4569.1506", "{90150000-0011-0000-0000-0000000FF1CE}", UpdateSeries::Office2013),
];

/// One offering of installer rows from one publisher: weight, application, line, publisher,
/// and the rows' names and versions.
type PlainOffering = (
    u32,
    &'static str,
    Option<Line>,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The workstation suites besides Office: per mille of workstations with one, and the
/// offerings.
#[rustfmt::skip]
const WORKSTATION_SUITES: &[(u32, &[PlainOffering])] = &[
    (95, &[
        (25, "microsoft.visio.professional_2016", Some(Line::VisioPro), MS, &[("Microsoft Visio Professional 2016", "16.0.4266.1001"), ("Microsoft Visio MUI (English) 2016", "16.0.4266.1001")]),
        (25, "microsoft.visio.professional_2019", Some(Line::VisioPro), MS, &[("Microsoft Visio Professional 2019 - en-us", "16.0.10417.20007")]),
        (15, "microsoft.visio.standard_2019", Some(Line::VisioStandard), MS, &[("Microsoft Visio Standard 2019 - en-us", "16.0.10417.20007")]),
        (15, "microsoft.visio.professional_2021", Some(Line::VisioPro), MS, &[("Microsoft Visio LTSC Professional 2021 - en-us", "16.0.14332.20791")]),
        (6, "microsoft.visio.standard_2021", Some(Line::VisioStandard), MS, &[("Microsoft Visio Standard 2021 - de-de", "16.0.17928.20216")]),
        (8, "microsoft.visio.professional_2013", Some(Line::VisioPro), MS, &[("Microsoft Visio Professional 2013", "15.0.4569.1506")]),
    ]),
    (60, &[
        (30, "microsoft.project.professional_2019", Some(Line::ProjectPro), MS, &[("Microsoft Project Professional 2019 - en-us", "16.0.10417.20007")]),
        (20, "microsoft.project.professional_2016", Some(Line::ProjectPro), MS, &[("Microsoft Project Professional 2016", "16.0.4266.1001"), ("Microsoft Project MUI (English) 2016", "16.0.4266.1001")]),
        (15, "microsoft.project.standard_2019", Some(Line::ProjectStandard), MS, &[("Microsoft Project Standard 2019 - de-de", "16.0.10417.20007")]),
        (15, "microsoft.project.professional_2021", Some(Line::ProjectPro), MS, &[("Microsoft Project Professional 2021 - en-us", "16.0.14332.20791")]),
        (10, "microsoft.project.standard_2013", Some(Line::ProjectStandard), MS, &[("Microsoft Project Standard 2013", "15.0.4569.1506")]),
    ]),
    (230, &[
        (30, "adobe.acrobat.pro_dc", Some(Line::AcrobatPro), "Adobe Inc.", &[("Adobe Acrobat DC (64-bit)", "24.004.20243")]),
        (15, "adobe.acrobat.pro_dc", Some(Line::AcrobatPro), "Adobe", &[("Adobe Acrobat (64-bit)", "25.001.20458")]),
        (8, "adobe.acrobat.pro_dc", Some(Line::AcrobatPro), "Adobe Systems Incorporated", &[("Adobe Acrobat Pro DC", "15.020.20042")]),
        (20, "adobe.acrobat.standard_dc", Some(Line::AcrobatStandard), "Adobe Systems Incorporated", &[("Adobe Acrobat Standard DC", "15.006.30060")]),
        (12, "adobe.acrobat.pro_2020", Some(Line::AcrobatPro), "Adobe Inc.", &[("Adobe Acrobat 2020", "20.005.30635")]),
        (8, "adobe.acrobat.pro_2017", Some(Line::AcrobatPro), "Adobe Systems Incorporated", &[("Adobe Acrobat 2017", "17.011.30204")]),
        (10, "adobe.acrobat.pro_xi", Some(Line::AcrobatPro), "Adobe Systems", &[("Adobe Acrobat XI Pro", "11.0.23")]),
        (4, "adobe.acrobat.standard_xi", Some(Line::AcrobatStandard), "Adobe Systems", &[("Adobe Acrobat XI Standard", "11.0.23")]),
    ]),
    (30, &[
        (30, "adobe.photoshop.v2025", Some(Line::CreativeCloud), "Adobe Inc.", &[("Adobe Photoshop 2025", "26.1.0.121"), ("Adobe Creative Cloud", "6.4.0.361")]),
        (20, "adobe.photoshop.v2024", Some(Line::CreativeCloud), "Adobe Inc.", &[("Adobe Photoshop 2024", "25.11.0.1"), ("Adobe Illustrator 2024", "28.7.1"), ("Adobe Creative Cloud", "6.4.0.361")]),
        (15, "adobe.illustrator.v2025", Some(Line::CreativeCloud), "Adobe Inc.", &[("Adobe Illustrator 2025", "29.2.1"), ("Adobe Creative Cloud", "6.4.0.361")]),
        (15, "adobe.indesign.v2023", Some(Line::CreativeCloud), "Adobe Inc.", &[("Adobe InDesign 2023", "18.5.2.209"), ("Adobe Creative Cloud", "6.4.0.361")]),
        (10, "adobe.premiere_pro.v2022", Some(Line::CreativeCloud), "Adobe Inc.", &[("Adobe Premiere Pro 2022", "22.6.2"), ("Adobe After Effects 2024", "24.6.2"), ("Adobe Creative Cloud", "6.4.0.361")]),
    ]),
    (35, &[
        (30, "autodesk.autocad.v2024", Some(Line::AutoCad), "Autodesk, Inc.", &[("AutoCAD 2024 - English", "24.3.61.0")]),
        (15, "autodesk.autocad.v2025", Some(Line::AutoCad), "Autodesk, Inc.", &[("AutoCAD 2025 - Deutsch (German)", "25.0.58.0")]),
        (10, "autodesk.autocad.v2020", Some(Line::AutoCad), "Autodesk", &[("AutoCAD 2020 - English", "23.1.47.0")]),
        (30, "autodesk.autocad_lt.v2024", Some(Line::AutoCadLt), "Autodesk", &[("AutoCAD LT 2024 - English", "24.3.61.0"), ("AutoCAD 2024 Language Pack - English", "24.3.61.0")]),
        (15, "autodesk.autocad_lt.v2021", Some(Line::AutoCadLt), "Autodesk", &[("AutoCAD LT 2021 - English", "24.0.47.0")]),
    ]),
    (55, &[
        (40, "techsmith.snagit.v2024", Some(Line::Snagit), "TechSmith Corporation", &[("Snagit 2024", "24.1.0.2466")]),
        (25, "techsmith.snagit.v2022", Some(Line::Snagit), "TechSmith Corporation", &[("Snagit 2022", "22.1.3.19829")]),
        (10, "techsmith.snagit.v2019", Some(Line::Snagit), "TechSmith Corporation", &[("Snagit 2019", "19.4.3.5173")]),
    ]),
    (15, &[
        (30, "tableau.desktop.v2024", Some(Line::Tableau), "Tableau Software", &[("Tableau 2024.2 (20242.24.0807.0327)", "20242.24.0807.0327"), ("Tableau Prep Builder 2024.2 (20242.24.0807.1020)", "20242.24.0807.1020")]),
        (15, "tableau.desktop.v2021", Some(Line::Tableau), "Tableau Software", &[("Tableau 2021.4 (20214.22.0108.1039)", "20214.22.0108.1039")]),
    ]),
    (60, &[
        (30, "corel.winzip.v27", Some(Line::WinZip), "Corel Corporation", &[("WinZip 27.0", "27.0.15240")]),
        (20, "corel.winzip.v29", Some(Line::WinZip), "Corel Corporation", &[("WinZip 29.0", "29.0.16250")]),
        (10, "corel.winzip.v24", Some(Line::WinZip), "WinZip Computing, S.L.", &[("WinZip 24.0", "24.0.13681")]),
    ]),
    (45, &[
        (20, "microsoft.visual_studio.professional_2022", None, MS, &[("Visual Studio Professional 2022", "17.12.3"), ("Microsoft Visual Studio Installer", "3.12.2149.20818")]),
        (8, "microsoft.visual_studio.enterprise_2022", None, MS, &[("Visual Studio Enterprise 2022", "17.14.39"), ("Microsoft Visual Studio Installer", "3.12.2149.20818")]),
        (20, "microsoft.visual_studio_community.v2022", None, MS, &[("Visual Studio Community 2022", "17.14.39")]),
        (6, "microsoft.visual_studio.professional_2019", None, MS, &[("Visual Studio Professional 2019", "16.11.34")]),
    ]),
    (15, &[
        (20, "ibm.spss_statistics.v29", None, "IBM Corp.", &[("IBM SPSS Statistics 29", "29.0.2.0")]),
        (10, "ibm.spss_statistics.v26", None, "IBM Corp.", &[("IBM SPSS Statistics 26", "26.0.0.0")]),
    ]),
    (20, &[
        (20, "vmware.workstation.pro_17", None, "VMware, Inc.", &[("VMware Workstation", "17.5.2")]),
        (8, "vmware.workstation.pro_17", None, "Broadcom Inc.", &[("VMware Workstation", "17.6.1")]),
        (10, "vmware.workstation.player_16", None, "VMware, Inc.", &[("VMware Player", "16.2.5")]),
    ]),
];

/// Databases and middleware on Windows servers besides SQL Server and Oracle Database.
#[rustfmt::skip]
const SERVER_SUITES: &[(u32, &[PlainOffering])] = &[
    (40, &[
        (3, "ibm.db2.v11_5", None, "International Business Machines Corp.", &[("Db2 Server Edition - DB2COPY1", "11.5.9000.352")]),
        (1, "ibm.db2.ese_v10_5", None, "IBM", &[("DB2 Enterprise Server Edition - DB2COPY1", "10.5.700.368")]),
    ]),
    (35, &[
        (2, "ibm.websphere.base_v9_0", None, "IBM", &[("IBM WebSphere Application Server V9.0", "9.0.5.1"), ("IBM HTTP Server V9.0", "9.0.5.1")]),
        (1, "ibm.websphere.nd_v8_5", None, "IBM", &[("IBM WebSphere Application Server Network Deployment V8.5", "8.5.5.15")]),
    ]),
];

/// The suites of a table.
fn plain_suites(table: &[(u32, &[PlainOffering])]) -> Vec<Suite> {
    table
        .iter()
        .map(|&(share, offerings)| Suite {
            share,
            offerings: offerings
                .iter()
                .map(|&(weight, application, line, publisher, rows)| {
                    (weight, plain(application, line, publisher, rows))
                })
                .collect(),
        })
        .collect()
}

/// Office, Visio, Project and the other workstation suites; at most one of each per machine.
fn workstation_suites() -> Vec<Suite> {
    let mut office: Vec<(u32, Offering)> = Vec::new();
    for (i, language) in OFFICE_LANGUAGES.iter().enumerate() {
        // English is the most common language; the others share the rest.
        for &(weight, application, line, name, version) in OFFICE_CLICK_TO_RUN {
            let weight = if i == 0 { weight / 2 } else { weight / 12 };
            let offering = click_to_run(application, line, name, version, language);
            office.push((weight, offering));
        }
    }
    for &(weight, application, line, name, version, product_code, updates) in OFFICE_MSI {
        let offering = msi_office(application, line, name, version, product_code, updates);
        office.push((weight, offering));
    }
    let mut suites = vec![Suite {
        share: 930,
        offerings: office,
    }];
    suites.extend(plain_suites(WORKSTATION_SUITES));
    suites
}

/// Databases and middleware on Windows servers, besides SQL Server.
fn server_suites() -> Vec<Suite> {
    let oracle_windows = |application: &str, bundle: &str| {
        let key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\ORACLE\\KEY_OraDB19Home1";
        let registry = |value_name: &str, value: &str| {
            let property = format!("{key}\\{value_name}");
            Fields {
                kind: "wmi",
                class: "Win32_Registry",
                property: &property,
                value,
                source: "sccm",
                ..Fields::default()
            }
            .encode()
        };
        Offering {
            application: String::from(application),
            line: None,
            rows: vec![
                Fields {
                    kind: "file",
                    name: "oracle.exe",
                    publisher: "Oracle Corporation",
                    version: "19.0.0.0.0",
                    source: "sccm",
                    ..Fields::default()
                }
                .encode(),
                registry("ORACLE_HOME_NAME", "OraDB19Home1"),
                registry("ORACLE_BUNDLE_NAME", bundle),
            ],
            updates: None,
        }
    };
    let mut suites = vec![Suite {
        share: 50,
        offerings: vec![
            (
                3,
                oracle_windows("oracle.database.enterprise_19c", "Enterprise"),
            ),
            (
                2,
                oracle_windows("oracle.database.standard2_19c", "Standard"),
            ),
        ],
    }];
    suites.extend(plain_suites(SERVER_SUITES));
    suites
}

/// SQL Server instances of the given editions (weighted), in the 2017, 2019 and 2022
/// releases: the installer entries and the edition in the registry.
fn sql_suite(editions: &[(u32, &str)]) -> Suite {
    let mut offerings = Vec::new();
    for (release_weight, year, major, build) in [
        (3, "2019", 15, "15.0.2000.5"),
        (3, "2022", 16, "16.0.1000.6"),
        (1, "2017", 14, "14.0.1000.169"),
    ] {
        for &(weight, edition) in editions {
            let (application, line, value) = match edition {
                "Enterprise" => (
                    "enterprise",
                    Some(Line::SqlEnterprise),
                    "Enterprise Edition: Core-based Licensing",
                ),
                "Standard" => ("standard", Some(Line::SqlStandard), "Standard Edition"),
                "Web" => ("web", None, "Web Edition (64-bit)"),
                "Developer" => ("developer", None, "Developer Edition"),
                _ => ("express", None, "Express Edition"),
            };
            let (family, instance) = match application {
                "developer" => ("microsoft.sql_server_developer", "MSSQLSERVER"),
                "express" => ("microsoft.sql_server_express", "SQLEXPRESS"),
                _ => ("microsoft.sql_server", "MSSQLSERVER"),
            };
            let property = format!(
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\MSSQL{major}.{instance}\\Setup\\Edition"
            );
            let mut rows = vec![
                Fields::installer(MS, &format!("Microsoft SQL Server {year} (64-bit)"), "")
                    .encode(),
            ];
            for part in ["Database Engine Services", "Database Engine Shared"] {
                let name = format!("SQL Server {year} {part}");
                rows.push(Fields::installer(MS, &name, build).encode());
            }
            rows.push(
                Fields {
                    kind: "wmi",
                    class: "Win32_Registry",
                    property: &property,
                    value,
                    source: "sccm",
                    ..Fields::default()
                }
                .encode(),
            );
            offerings.push((
                weight * release_weight,
                Offering {
                    application: format!("{family}.{application}_{year}"),
                    line,
                    rows,
                    updates: None,
                },
            ));
        }
    }
    Suite {
        share: 1000,
        offerings,
    }
}

/// Oracle Database 19c from its RPM, with the package that prepared the system for it.
fn oracle_linux() -> Offering {
    let package = |name: &str, version: &str| {
        Fields {
            kind: "package",
            publisher: "Oracle Corporation",
            name,
            version,
            architecture: "x86_64",
            source: "rpm",
            ..Fields::default()
        }
        .encode()
    };
    Offering {
        application: "oracle.database.enterprise_19c_rpm".to_owned(),
        line: None,
        rows: vec![
            package("oracle-database-ee-19c", "1.0-2"),
            package("oracle-database-preinstall-19c", "1.0-1.el8"),
        ],
        updates: None,
    }
}

/// Companies that write in-house and niche business software (Microsoft's sample company
/// names), as their installers name themselves.
const BUSINESS_VENDORS: &[&str] = &[
    "Contoso Ltd.",
    "Fabrikam, Inc.",
    "Northwind Traders",
    "Adventure Works Cycles",
    "Tailspin Toys",
    "Wide World Importers",
    "Litware, Inc.",
    "Proseware, Inc.",
    "Trey Research",
    "Woodgrove Bank",
    "Lucerne Publishing",
    "Wingtip Toys",
    "Coho Winery",
    "Alpine Ski House",
    "Fourth Coffee",
    "Humongous Insurance",
    "Margie's Travel",
    "Blue Yonder Airlines",
    "City Power & Light",
    "Consolidated Messenger",
    "Graphic Design Institute",
    "A. Datum Corporation",
    "Relecloud",
    "VanArsdel, Ltd.",
    "Southridge Video",
    "Tailwind Traders",
    "Bellows College",
    "Northwind Health",
    "Woodgrove Software",
    "Contoso Pharmaceuticals",
];

const BUSINESS_PRODUCTS: &[&str] = &[
    "Expense Client",
    "Time Tracker",
    "Document Manager",
    "CRM Connector",
    "Label Printer Utility",
    "Report Designer",
    "Scan Station",
    "Payroll Client",
    "Inventory Manager",
    "Fleet Planner",
    "Claims Workbench",
    "Policy Viewer",
    "Trading Desk",
    "Risk Analyzer",
    "Service Desk Agent",
    "Barcode Studio",
    "Route Optimizer",
    "Archive Viewer",
    "Terminal Emulator",
    "Form Filler",
    "Data Loader",
    "Quality Inspector",
    "Shift Planner",
    "Print Manager",
    "Audit Console",
    "Signature Pad Tools",
];

/// Three products of each business vendor, each in three to five versions, on 0.5% to 12%
/// of workstations.
fn business_software(unknown: &mut Vec<UnknownProduct>) -> Vec<CommonRows> {
    let mut rng = Rng::new(0, 0xb05, 0);
    let mut software = Vec::new();
    for (v, vendor) in BUSINESS_VENDORS.iter().enumerate() {
        let short = short_vendor(vendor);
        for k in 0..3 {
            let product = BUSINESS_PRODUCTS[(v * 7 + k * 11) % BUSINESS_PRODUCTS.len()];
            let name = format!("{short} {product}");
            let major = rng.between(1, 12);
            let versions: Vec<String> = (0..rng.between(3, 5))
                .map(|age| {
                    format!(
                        "{major}.{}.{}",
                        4u32.saturating_sub(age),
                        rng.between(100, 9999)
                    )
                })
                .collect();
            let rows = versions
                .iter()
                .map(|version| Fields::installer(vendor, &name, version).encode())
                .collect();
            let share = [120, 60, 30, 15, 5][rng.skewed(5)];
            software.push(CommonRows {
                rows,
                workstations: share,
                servers: share / 10,
            });
            unknown.push(UnknownProduct {
                publisher: (*vendor).to_owned(),
                name,
                versions,
            });
        }
    }
    software
}

/// A vendor's name without its legal form: "Fabrikam, Inc." is "Fabrikam".
fn short_vendor(vendor: &str) -> &str {
    vendor
        .trim_end_matches(", Inc.")
        .trim_end_matches(", Ltd.")
        .trim_end_matches(" Ltd.")
        .trim_end_matches(" Corporation")
}

const TAIL_FIRST: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Massive",
    "Aperture",
    "Oscorp",
    "Wonka",
    "Monarch",
    "Dunder",
    "Nakatomi",
    "Gekko",
    "Virtucon",
    "Zorg",
    "Ollivander",
    "Prestige",
    "Blue Sun",
    "Yoyodyne",
    "Sirius",
    "Omni",
    "Gringotts",
    "Krusty",
    "Duff",
];
const TAIL_SECOND: &[&str] = &[
    "Software",
    "Systems",
    "Technologies",
    "Labs",
    "Digital",
    "Solutions",
    "Networks",
    "Data",
];
const TAIL_LEGAL: &[&str] = &[
    "Inc.",
    "GmbH",
    "Ltd",
    "Corporation",
    "LLC",
    "S.A.",
    "AG",
    "B.V.",
];
const TAIL_ADJECTIVES: &[&str] = &[
    "Pro", "Advanced", "Smart", "Quick", "Power", "Easy", "Secure", "Cloud", "Visual", "Total",
    "Net", "Data", "Media", "Photo", "Sound", "Code", "Report", "Backup", "Remote", "Office",
];
const TAIL_NOUNS: &[&str] = &[
    "Studio",
    "Designer",
    "Analyzer",
    "Manager",
    "Suite",
    "Viewer",
    "Editor",
    "Client",
    "Toolkit",
    "Converter",
    "Monitor",
    "Builder",
    "Explorer",
    "Assistant",
    "Workbench",
    "Gateway",
    "Scanner",
    "Planner",
    "Player",
    "Sync",
];

/// The number of rows in the long tail.
const TAIL_ROWS: usize = 12_000;

/// Niche software from 240 vendors, 12,000 rows in all: 2,000 products in six versions each.
fn long_tail(unknown: &mut Vec<UnknownProduct>) -> Vec<Row> {
    let mut rng = Rng::new(0, 0x7a11, 0);
    let mut rows = Vec::with_capacity(TAIL_ROWS);
    let vendors = TAIL_FIRST.len() * TAIL_SECOND.len();
    let mut product = 0;
    while rows.len() < TAIL_ROWS {
        let vendor = product % vendors;
        let first = TAIL_FIRST[vendor % TAIL_FIRST.len()];
        let second = TAIL_SECOND[vendor / TAIL_FIRST.len()];
        let legal = TAIL_LEGAL[vendor % TAIL_LEGAL.len()];
        let publisher = format!("{first} {second} {legal}");
        let round = product / vendors;
        let adjective = TAIL_ADJECTIVES[(round + vendor) % TAIL_ADJECTIVES.len()];
        let noun = TAIL_NOUNS[(round * 3 + vendor / 7) % TAIL_NOUNS.len()];
        let name = format!("{first} {adjective} {noun}");
        let major = rng.between(1, 24);
        let versions: Vec<String> = (0..6)
            .map(|age| format!("{major}.{}.{}", 5 - age, rng.between(1000, 29_999)))
            .collect();
        rows.extend(
            versions
                .iter()
                .map(|version| Fields::installer(&publisher, &name, version).encode()),
        );
        unknown.push(UnknownProduct {
            publisher,
            name,
            versions,
        });
        product += 1;
    }
    rows.truncate(TAIL_ROWS);
    rows
}

/// Packages of a Linux server: `base` ones every server of the distribution has, and the
/// optional ones each server has some of.
fn linux_rows(os: &(&str, &str, &str, &str, &str), base: bool) -> Vec<Row> {
    let &(_, source, architecture, vendor, release) = os;
    let names: &[&str] = if base {
        LINUX_BASE_PACKAGES
    } else {
        LINUX_OPTIONAL_PACKAGES
    };
    let mut rows = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut rng = Rng::new(0, 0x11ec, i as u64);
        let upstream = format!(
            "{}.{}.{}",
            rng.between(0, 9),
            rng.between(0, 30),
            rng.between(0, 20)
        );
        let build = rng.between(1, if source == "dpkg" { 9 } else { 40 });
        // Each package exists in two builds: servers not yet patched, and patched.
        for build in [build, build + 1] {
            let version = format!("{upstream}-{build}{release}");
            let version = version.as_str();
            rows.push(
                Fields {
                    kind: "package",
                    publisher: vendor,
                    name,
                    version,
                    architecture,
                    source,
                    ..Fields::default()
                }
                .encode(),
            );
        }
    }
    rows
}

#[rustfmt::skip]
const LINUX_BASE_PACKAGES: &[&str] = &[
    "acl", "audit", "audit-libs", "basesystem", "bash", "bzip2-libs", "ca-certificates",
    "chrony", "coreutils", "coreutils-common", "cpio", "cracklib", "cronie", "crypto-policies",
    "curl", "cyrus-sasl-lib", "dbus", "dbus-libs", "device-mapper", "diffutils", "dnf",
    "dracut", "e2fsprogs", "elfutils-libs", "expat", "file", "file-libs", "filesystem",
    "findutils", "firewalld", "gawk", "gdbm-libs", "glib2", "glibc", "glibc-common", "gmp",
    "gnupg2", "gnutls", "grep", "grub2-common", "grub2-tools", "gzip", "hostname", "hwdata",
    "info", "iproute", "iptables-libs", "iputils", "kbd", "kernel", "kernel-core",
    "kernel-modules", "keyutils-libs", "kmod", "kmod-libs", "krb5-libs", "less", "libacl",
    "libattr", "libblkid", "libcap", "libcom_err", "libcurl", "libdb", "libfdisk", "libffi",
    "libgcc", "libgcrypt", "libgpg-error", "libidn2", "libmount", "libnghttp2", "libpwquality",
    "libselinux", "libsemanage", "libsepol", "libsmartcols", "libssh", "libstdc++", "libtasn1",
    "libunistring", "libuuid", "libxml2", "libzstd", "logrotate", "lua-libs", "lz4-libs",
    "ncurses", "ncurses-base", "ncurses-libs", "nettle", "openldap", "openssh",
    "openssh-clients", "openssh-server", "openssl", "openssl-libs", "p11-kit", "pam", "passwd",
    "pcre2", "policycoreutils", "procps-ng", "python3", "python3-libs", "python3-dnf",
    "readline", "rpm", "rpm-libs", "rsyslog", "sed", "selinux-policy", "setup", "shadow-utils",
    "sqlite-libs", "sudo", "systemd", "systemd-libs", "systemd-udev", "tar", "tzdata",
    "util-linux", "vim-minimal", "which", "xz", "xz-libs", "yum", "zlib",
];

#[rustfmt::skip]
const LINUX_OPTIONAL_PACKAGES: &[&str] = &[
    "NetworkManager", "NetworkManager-libnm", "alsa-lib", "at", "authselect", "avahi-libs",
    "bc", "bind-libs", "bind-utils", "binutils", "cifs-utils", "cloud-init", "cockpit",
    "cockpit-ws", "containerd.io", "cups-libs", "dmidecode", "docker-ce", "docker-ce-cli",
    "ethtool", "fontconfig", "freetype", "gcc", "gdb", "git", "git-core", "gnupg2-smime",
    "htop", "httpd", "httpd-tools", "insights-client", "java-11-openjdk", "java-17-openjdk",
    "java-17-openjdk-headless", "jq", "kexec-tools", "ksh", "libaio", "libnsl", "lsof", "lvm2",
    "make", "man-db", "mariadb", "mariadb-server", "mdadm", "net-snmp", "net-snmp-libs",
    "net-tools", "nfs-utils", "nginx", "nodejs", "nss", "nss-util", "ntfs-3g", "open-vm-tools",
    "perl", "perl-Carp", "perl-Data-Dumper", "perl-Digest-MD5", "perl-Encode", "perl-Exporter",
    "perl-File-Path", "perl-Getopt-Long", "perl-IO", "perl-JSON-PP", "perl-Scalar-List-Utils",
    "perl-Storable", "perl-Time-Local", "perl-libs", "php", "php-cli", "postfix", "postgresql",
    "postgresql-server", "python3-pip", "python3-requests", "python3-pyyaml", "python3-urllib3",
    "redis", "rsync", "samba-client", "screen", "smartmontools", "sos", "strace",
    "subscription-manager", "sysstat", "tcpdump", "telnet", "tmux", "traceroute", "tuned",
    "unzip", "wget", "xfsprogs", "zip", "zsh", "falcon-sensor", "qualys-cloud-agent",
    "splunkforwarder", "tanium-client", "nessus-agent", "rapid7-insight-agent",
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use jiff::civil::date;

    use super::*;
    use crate::db::Database;
    use crate::estate::{self, EstateFiles, Evidence};
    use crate::recognize::{RowOutcome, recognize_device};
    use crate::workspace::{RuleSource, Workspace};

    /// A workspace with the standard packs, read from the repository.
    fn standard() -> Workspace {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sources: Vec<RuleSource> = ["rules", "arl", "purl", "skus"]
            .iter()
            .flat_map(|dir| crate::sources::read_pack(&root.join(dir)).unwrap_or_default())
            .map(|source| RuleSource {
                source,
                standard: true,
            })
            .collect();
        Workspace::new(Database::default(), sources, date(2026, 11, 1))
    }

    /// The rows, all on device `D1`, read back through the estate importer.
    fn evidence(ws: &Workspace, rows: &[&Row]) -> Vec<Evidence> {
        let mut text = EVIDENCE_HEADER.to_owned();
        for row in rows {
            text.push_str("D1,");
            text.push_str(row.as_str());
            text.push_str(",\n");
        }
        let files = EstateFiles::from_texts(
            "catalogue",
            [
                "id\nD1\n",
                "id\n",
                &text,
                "licenses: []\n",
                "id,license,quantity\n",
            ],
        );
        let imported = estate::import(&files, ws.pack());
        assert!(imported.is_ok(), "{:?}", imported.err());
        imported.map(|e| e.evidence).unwrap_or_default()
    }

    fn describe(e: &Evidence) -> String {
        format!("{} | {} | {}", e.publisher, e.name, e.version)
    }

    #[test]
    fn each_list_is_what_the_standard_packs_make_of_it() {
        let ws = standard();
        assert!(!ws.compiled().has_errors());
        let catalogue = Catalogue::new();
        let recognizer = ws.recognizer();
        let mut wrong = Vec::new();

        // Noise is noise, including every update.
        let noise_count = NOISE.len();
        let noise: Vec<&Row> = catalogue.common[..noise_count]
            .iter()
            .flat_map(|c| &c.rows)
            .chain(catalogue.updates.iter().flatten())
            .collect();
        for e in evidence(&ws, &noise) {
            if !matches!(recognizer.classify(&e), RowOutcome::Noise { .. }) {
                wrong.push(format!("not noise: {}", describe(&e)));
            }
        }

        // What the standard packs do not know stays unrecognised and is not noise.
        let unknown_start = noise_count + FREEWARE.len();
        let unknown: Vec<&Row> = catalogue.common[unknown_start..]
            .iter()
            .chain(catalogue.hardware.iter().flatten())
            .chain(&catalogue.business)
            .flat_map(|c| &c.rows)
            .chain(&catalogue.tail)
            .collect();
        for e in evidence(&ws, &unknown) {
            if recognizer.classify(&e) != RowOutcome::Applications(Vec::new()) {
                wrong.push(format!("not unknown: {}", describe(&e)));
            }
        }

        // Every commercial offering is recognised as its application, on its own.
        let suites = catalogue
            .workstation_suites
            .iter()
            .chain(&catalogue.server_suites)
            .chain([&catalogue.sql_production, &catalogue.sql_nonproduction]);
        let offerings = suites
            .flat_map(|s| s.offerings.iter().map(|(_, o)| o))
            .chain([&catalogue.oracle_linux]);
        let mut applications = BTreeSet::new();
        for offering in offerings {
            let rows: Vec<&Row> = offering.rows.iter().collect();
            let found = recognize_device(recognizer, "D1", &evidence(&ws, &rows));
            let ids: Vec<&str> = found
                .installations
                .iter()
                .map(|i| i.application.as_ref())
                .collect();
            if !ids.contains(&offering.application.as_str()) {
                wrong.push(format!("{} recognised as {ids:?}", offering.application));
            }
            applications.insert(offering.application.as_str());
        }
        assert!(applications.len() > 60, "{}", applications.len());

        // Each server caption names its Windows Server release.
        for caption in &catalogue.server_captions {
            let found = recognize_device(recognizer, "D1", &evidence(&ws, &[caption]));
            if found.installations.len() != 1 {
                wrong.push(format!(
                    "{} recognised as {:?}",
                    caption.as_str(),
                    found.installations
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn names_take_their_versions() {
        assert_eq!(
            with_version(
                "Microsoft Visual C++ 2022 X64 Minimum Runtime - {v3}",
                "14.40.33810.0"
            ),
            "Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.40.33810"
        );
        assert_eq!(with_version("WinZip {v2}", "27.0.15240"), "WinZip 27.0");
        assert_eq!(
            with_version("7-Zip {v} (x64)", "24.08"),
            "7-Zip 24.08 (x64)"
        );
        assert_eq!(short_vendor("Fabrikam, Inc."), "Fabrikam");
    }
}
