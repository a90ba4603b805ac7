//! `--spin-compat`: the released Spins whose limits this host reproduces as loud errors, so a
//! test on this host fails where the app would fail or hang on one of them. Several releases may
//! be named at once (`3.6.3,4.0.2`, what the e2e tests run under): every rule of each applies,
//! and where two releases hand the guest the same failure in different forms, the form that
//! tells the guest less wins.
//!
//! The rules live beside what they constrain: the manifest ([`crate::manifest::ManifestReader`]),
//! allowed outbound hosts ([`crate::grants::allowed_hosts::AllowedHosts::check_spin_compat`]) and
//! Postgres (`capabilities/postgres/spin_compat.rs`). Each names the Spin source it models.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail, ensure};

/// One released Spin that `--spin-compat` models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpinRelease {
    /// Spin 3.6.3: what SpinKube's newest containerd shim (v0.24.0) embeds.
    V3_6_3,
    /// Spin 4.0.2: the Spin command line.
    V4_0_2,
}

impl SpinRelease {
    pub const ALL: [SpinRelease; 2] = [SpinRelease::V3_6_3, SpinRelease::V4_0_2];

    fn bit(self) -> u8 {
        match self {
            SpinRelease::V3_6_3 => 1,
            SpinRelease::V4_0_2 => 2,
        }
    }
}

impl fmt::Display for SpinRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpinRelease::V3_6_3 => "3.6.3",
            SpinRelease::V4_0_2 => "4.0.2",
        })
    }
}

impl FromStr for SpinRelease {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let version = s.trim().trim_start_matches('v');
        match SpinRelease::ALL.iter().find(|r| r.to_string() == version) {
            Some(release) => Ok(*release),
            None => bail!(
                "unsupported Spin compatibility version {version:?} (supported: {})",
                SpinRelease::ALL.map(|r| r.to_string()).join(", ")
            ),
        }
    }
}

/// A non-empty set of released Spins: the host fails wherever any of them would.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SpinCompat {
    releases: u8,
}

impl SpinCompat {
    /// Just this release.
    #[cfg(test)]
    pub fn only(release: SpinRelease) -> SpinCompat {
        SpinCompat {
            releases: release.bit(),
        }
    }

    /// Every release this host models.
    #[cfg(test)]
    pub fn all() -> SpinCompat {
        SpinCompat {
            releases: SpinRelease::ALL.iter().fold(0, |bits, r| bits | r.bit()),
        }
    }

    /// Whether `release`'s rules apply.
    pub fn includes(self, release: SpinRelease) -> bool {
        self.releases & release.bit() != 0
    }

    /// The releases whose rules apply, oldest first.
    pub fn releases(self) -> impl Iterator<Item = SpinRelease> {
        SpinRelease::ALL
            .into_iter()
            .filter(move |r| self.includes(*r))
    }
}

impl FromStr for SpinCompat {
    type Err = anyhow::Error;

    /// `4.0.2`, `3.6.3`, or a comma list of them (`3.6.3,4.0.2`).
    fn from_str(s: &str) -> Result<Self> {
        let mut releases = 0;
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            releases |= part.parse::<SpinRelease>()?.bit();
        }
        ensure!(
            releases != 0,
            "name at least one Spin release (supported: {})",
            SpinRelease::ALL.map(|r| r.to_string()).join(", ")
        );
        Ok(SpinCompat { releases })
    }
}

impl fmt::Display for SpinCompat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.releases().map(|r| r.to_string()).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for SpinCompat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpinCompat({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_release_or_a_list_of_them_parses() {
        let v4: SpinCompat = "4.0.2".parse().unwrap();
        assert!(v4.includes(SpinRelease::V4_0_2) && !v4.includes(SpinRelease::V3_6_3));
        assert_eq!(v4, SpinCompat::only(SpinRelease::V4_0_2));
        let v3: SpinCompat = "v3.6.3".parse().unwrap();
        assert_eq!(v3, SpinCompat::only(SpinRelease::V3_6_3));
        let both: SpinCompat = "4.0.2, 3.6.3".parse().unwrap();
        assert_eq!(both, SpinCompat::all());
        assert_eq!(both.to_string(), "3.6.3,4.0.2");
        assert_eq!(
            both.releases().collect::<Vec<_>>(),
            [SpinRelease::V3_6_3, SpinRelease::V4_0_2]
        );
    }

    #[test]
    fn an_unknown_release_or_none_is_refused_naming_the_supported_ones() {
        for bad in ["3.9", "4.0.2,5", "", " , "] {
            let err = bad.parse::<SpinCompat>().unwrap_err().to_string();
            assert!(err.contains("3.6.3, 4.0.2"), "{bad:?}: {err}");
        }
    }
}
