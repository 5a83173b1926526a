//! Word tables for the human parts of generated recipes (licenses, maintainers, upstream
//! organisations, summaries) and the feedstock `LICENSE.txt`.

/// SPDX licenses, weighted towards the common ones by repetition.
pub(crate) const LICENSES: &[&str] = &[
    "MIT",
    "MIT",
    "MIT",
    "BSD-3-Clause",
    "BSD-3-Clause",
    "Apache-2.0",
    "Apache-2.0",
    "BSD-2-Clause",
    "LGPL-2.1-or-later",
    "GPL-3.0-or-later",
    "MPL-2.0",
    "ISC",
    "Zlib",
];

/// Made-up GitHub handles.
pub(crate) const MAINTAINERS: &[&str] = &[
    "alvarez-k",
    "bheinz",
    "cmorales",
    "dpetrova",
    "ewhitfield",
    "fnakamura",
    "gokonkwo",
    "hlindqvist",
    "ibrahimr",
    "jkowalski",
    "kchen-dev",
    "lmartins",
    "mobrien",
    "nsato",
    "oadeyemi",
    "pfischer",
    "qzhang",
    "rgupta",
    "svolkov",
    "tnguyen",
    "uhansen",
    "vrossi",
    "wmensah",
    "xdubois",
    "ytanaka",
    "zkaplan",
];

/// Made-up upstream organisations (for homepages and source URLs).
pub(crate) const ORGS: &[&str] = &[
    "opencompute",
    "dataforge",
    "numerica",
    "quantumleaf",
    "bytesmith",
    "lattice-labs",
    "geoframe",
    "openastro",
    "biosignal",
    "tensorworks",
    "netcraft",
    "climadata",
];

/// Summary phrases; `{}` is the package name.
pub(crate) const SUMMARIES: &[&str] = &[
    "Fast and friendly {} toolkit",
    "A small library for parsing things, {}",
    "{}: reproducible scientific workflows",
    "Bindings and utilities around {}",
    "The {} compression format, reference implementation",
    "Numerical routines for {}",
    "Command-line client for the {} service",
    "Plugins and extensions for {}",
    "Typed configuration for {} applications",
    "High-performance I/O for {}",
];

/// The BSD-3-Clause text every conda-forge feedstock carries as `LICENSE.txt`.
pub(crate) const FEEDSTOCK_LICENSE: &str = "BSD-3-Clause license
Copyright (c) 2015-2025, conda-forge contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice,
   this list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright
   notice, this list of conditions and the following disclaimer in the
   documentation and/or other materials provided with the distribution.
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.
";

/// The summary line of a package.
pub(crate) fn summary(index: usize, name: &str) -> String {
    SUMMARIES.get(index).unwrap_or(&"{}").replace("{}", name)
}
