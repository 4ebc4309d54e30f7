//! libphonenumber's metadata, compiled for fast repeated use.
//!
//! `phonenumber` keeps every pattern of its database as a `CachedRegex`: each
//! use locks one global mutex and looks the pattern up by its source text in a
//! 100-entry LRU cache, recompiling it when it was evicted. A mix of regions
//! thrashes that cache, and the lock serialises threads. This module instead
//! indexes the database once ([`table`], on first use) and compiles each
//! region's patterns — anchored the way libphonenumber's Java code matches
//! them — the first time that region is needed, keeping them for the life of
//! the process. Regions never seen cost nothing beyond the index.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::Metadata;
use phonenumber::metadata::{DATABASE, Descriptor};
use regex::{Regex, RegexBuilder};

/// The highest country calling code (3 digits).
const MAX_CODE: u16 = 999;

/// All regions, indexed by calling code and by ISO id.
pub(crate) struct Table {
    regions: Vec<Region>,
    /// Calling code → indices into `regions`, main country first.
    by_code: HashMap<u16, Vec<usize>>,
    /// Upper-case ISO 3166 alpha-2 → index into `regions`.
    by_id: HashMap<[u8; 2], usize>,
}

/// One region (or non-geographic entity) of the database.
pub(crate) struct Region {
    meta: &'static Metadata,
    rules: OnceLock<Rules>,
    formats: OnceLock<Formats>,
}

/// A number type's pattern and lengths.
pub(crate) struct Desc {
    /// `^(?:pattern)$`.
    pattern: Regex,
    /// Possible lengths of the national significant number; empty means any.
    lengths: Vec<u16>,
}

impl Desc {
    fn new(d: &Descriptor) -> Option<Self> {
        Some(Self { pattern: compile(d.national_number().as_str(), true)?, lengths: d.possible_length().to_vec() })
    }

    /// libphonenumber's `isNumberMatchingDesc`: length first, then full match.
    pub(crate) fn matches(&self, nsn: &str) -> bool {
        let length_ok = self.lengths.is_empty() || u16::try_from(nsn.len()).is_ok_and(|l| self.lengths.contains(&l));
        length_ok && self.pattern.is_match(nsn)
    }
}

/// The patterns needed to parse and validate numbers of one region.
pub(crate) struct Rules {
    /// The general description every number of the region matches (`None`
    /// only if the metadata's pattern failed to compile: nothing is valid).
    pub general: Option<Desc>,
    /// Specific types (fixed line, mobile, toll free, …); a number is valid
    /// when it matches the general description and one of these.
    pub types: Vec<Desc>,
    /// International (IDD) prefix, `^(?:…)`.
    pub idd: Option<Regex>,
    /// `national_prefix_for_parsing`, `^(?:…)`, with its capture groups.
    pub prefix_for_parsing: Option<Regex>,
    /// `national_prefix_transform_rule` (e.g. Argentina's `9$1`).
    pub transform: Option<String>,
    /// For regions sharing a calling code: which national numbers belong here.
    pub leading_digits: Option<Regex>,
    /// Every possible length of a national significant number of the region,
    /// sorted (the union over the number types: the metadata's general
    /// description often leaves its own list empty).
    pub lengths: Vec<u16>,
}

/// One formatting rule of a region. Its patterns are compiled when a number
/// first reaches this rule: formatting walks the list in order and stops at
/// the first match, so most rules of a region are never compiled.
pub(crate) struct Format {
    meta: &'static phonenumber::metadata::Format,
    /// Last (most specific) leading-digits pattern, `^(?:…)`.
    leading: OnceLock<Option<Regex>>,
    /// Full-match pattern over the national significant number.
    pattern: OnceLock<Option<Regex>>,
    /// National prefix formatting rule with `$NP` already substituted, e.g.
    /// `0$FG` (only the `$FG` part left).
    pub national_rule: Option<String>,
}

impl Format {
    /// Replacement, with `$1`… group references.
    pub(crate) fn template(&self) -> &'static str {
        self.meta.format()
    }

    /// Whether this rule formats `nsn`: its leading digits match the start
    /// and its pattern matches all of it.
    pub(crate) fn applies(&self, nsn: &str) -> bool {
        let leading = self.leading.get_or_init(|| self.meta.leading_digits().last().and_then(|r| compile(r.as_str(), false)));
        let leading_ok = match (self.meta.leading_digits().is_empty(), leading) {
            (true, _) => true,
            (false, Some(re)) => re.is_match(nsn),
            (false, None) => false,
        };
        leading_ok && self.pattern().is_some_and(|p| p.is_match(nsn))
    }

    /// The full-match pattern (`None` if it failed to compile).
    pub(crate) fn pattern(&self) -> Option<&Regex> {
        self.pattern.get_or_init(|| compile(self.meta.pattern().as_str(), true)).as_ref()
    }
}

/// A region's national and international formatting rules.
pub(crate) struct Formats {
    /// National formats.
    pub national: Vec<Format>,
    /// International formats (empty means: use the national ones).
    pub international: Vec<Format>,
}

/// Compiles a metadata pattern the way `phonenumber` does (ignoring
/// whitespace), anchored at the start, and at the end when `full`.
/// Metadata patterns are known-good; one that fails is treated as absent.
fn compile(source: &str, full: bool) -> Option<Regex> {
    let anchored = if full { format!("^(?:{source})$") } else { format!("^(?:{source})") };
    RegexBuilder::new(&anchored).ignore_whitespace(true).unicode(false).build().ok()
}

impl Region {
    /// ISO 3166 alpha-2 code, or `001` for non-geographic entities.
    pub(crate) fn id(&self) -> &'static str {
        self.meta.id()
    }

    /// Country calling code.
    pub(crate) fn code(&self) -> u16 {
        self.meta.country_code()
    }

    /// National (trunk) prefix, e.g. `0` in France, `1` in the US.
    pub(crate) fn national_prefix(&self) -> Option<&'static str> {
        self.meta.national_prefix()
    }

    /// A name for error messages: the ISO code, or `+800` style for
    /// non-geographic codes.
    pub(crate) fn label(&self) -> String {
        if self.id() == "001" { format!("+{}", self.code()) } else { self.id().to_owned() }
    }

    /// Possible lengths of the region's national numbers, sorted.
    pub(crate) fn possible_lengths(&self) -> &[u16] {
        &self.rules().lengths
    }

    /// Parsing and validation patterns, compiled on first use.
    pub(crate) fn rules(&self) -> &Rules {
        self.rules.get_or_init(|| {
            let d = self.meta.descriptors();
            let general = Desc::new(d.general());
            let types: Vec<Desc> = [
                d.premium_rate(),
                d.toll_free(),
                d.shared_cost(),
                d.voip(),
                d.personal_number(),
                d.pager(),
                d.uan(),
                d.voicemail(),
                d.fixed_line(),
                d.mobile(),
            ]
            .into_iter()
            .flatten()
            .filter_map(Desc::new)
            .collect();
            let mut lengths: Vec<u16> = general.iter().chain(&types).flat_map(|t| t.lengths.iter().copied()).collect();
            lengths.sort_unstable();
            lengths.dedup();
            Rules {
                general,
                types,
                idd: self.meta.international_prefix().and_then(|r| compile(r.as_str(), false)),
                prefix_for_parsing: self.meta.national_prefix_for_parsing().and_then(|r| compile(r.as_str(), false)),
                transform: self.meta.national_prefix_transform_rule().map(str::to_owned),
                leading_digits: self.meta.leading_digits().and_then(|r| compile(r.as_str(), false)),
                lengths,
            }
        })
    }

    /// Formatting rules, compiled on first use (only `format`/`variants`
    /// need them).
    pub(crate) fn formats(&self) -> &Formats {
        self.formats.get_or_init(|| {
            let np = self.national_prefix().unwrap_or("");
            let convert = |f: &'static phonenumber::metadata::Format| Format {
                meta: f,
                leading: OnceLock::new(),
                pattern: OnceLock::new(),
                national_rule: f.national_prefix().filter(|r| !r.is_empty()).map(|r| r.replace("$NP", np)),
            };
            Formats {
                national: self.meta.formats().iter().map(convert).collect(),
                international: self.meta.international_formats().iter().map(convert).collect(),
            }
        })
    }

    /// Whether `nsn` is a valid number of this region (libphonenumber's
    /// `getNumberType != UNKNOWN`).
    pub(crate) fn is_valid(&self, nsn: &str) -> bool {
        let rules = self.rules();
        rules.general.as_ref().is_some_and(|g| g.matches(nsn)) && rules.types.iter().any(|t| t.matches(nsn))
    }
}

impl Table {
    fn build() -> Self {
        let db = &*DATABASE;
        let mut regions = Vec::new();
        let mut by_code = HashMap::new();
        let mut by_id = HashMap::new();
        for code in 1..=MAX_CODE {
            let Some(metas) = db.by_code(&code) else {
                continue;
            };
            let mut indices = Vec::with_capacity(metas.len());
            for meta in metas {
                let index = regions.len();
                if let [a, b] = meta.id().as_bytes() {
                    by_id.insert([a.to_ascii_uppercase(), b.to_ascii_uppercase()], index);
                }
                regions.push(Region { meta, rules: OnceLock::new(), formats: OnceLock::new() });
                indices.push(index);
            }
            by_code.insert(code, indices);
        }
        Self { regions, by_code, by_id }
    }

    /// The region with ISO code `id` (case-insensitive).
    pub(crate) fn by_id(&self, id: &str) -> Option<&Region> {
        let key = match id.as_bytes() {
            [a, b] => [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
            _ => return None,
        };
        self.by_id.get(&key).and_then(|&i| self.regions.get(i))
    }

    /// The regions sharing calling code `code`, main country first.
    pub(crate) fn by_code(&self, code: u16) -> impl Iterator<Item = &Region> {
        self.by_code.get(&code).into_iter().flatten().filter_map(|&i| self.regions.get(i))
    }

    /// The main region of calling code `code`.
    pub(crate) fn main_for_code(&self, code: u16) -> Option<&Region> {
        self.by_code(code).next()
    }

    /// Splits a known calling code (1 to 3 digits) off the front of `digits`.
    pub(crate) fn split_code<'a>(&self, digits: &'a str) -> Option<(u16, &'a str)> {
        (1..=3).find_map(|len| {
            let head = digits.get(..len)?;
            if head.starts_with('0') || digits.len() <= len {
                return None;
            }
            let code: u16 = head.parse().ok()?;
            self.by_code.contains_key(&code).then(|| (code, digits.get(len..).unwrap_or("")))
        })
    }

    /// The region a valid national significant number of calling code `code`
    /// belongs to, or `None` when it is valid in none of them. For shared
    /// codes (NANP, +7, +44, …) a region's leading digits, when it has them,
    /// must match too.
    pub(crate) fn region_for(&self, code: u16, nsn: &str) -> Option<&Region> {
        self.by_code(code).find(|r| r.rules().leading_digits.as_ref().is_none_or(|ld| ld.is_match(nsn)) && r.is_valid(nsn))
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// The process-wide table (built on first use).
pub(crate) fn table() -> &'static Table {
    &TABLE
}
