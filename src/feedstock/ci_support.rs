//! `.ci_support/*.yaml`: one variant config per CI job, named `<os>_<arch>_<variant>.yaml`.

use std::str::FromStr;

use rattler_conda_types::Subdir;

use crate::recipe::{Variant, VariantError};

/// One `.ci_support/*.yaml` file.
#[derive(Debug, Clone)]
pub struct CiSupportFile {
    /// The file name, e.g. `linux_64_python3.12.____cpython.yaml`.
    pub file_name: String,
    /// The file's raw text.
    pub text: String,
}

impl CiSupportFile {
    /// The variant the file describes. The platform comes from its `target_platform` key,
    /// or from the file name when the key is missing.
    pub fn variant(&self) -> Result<Variant, VariantError> {
        let fallback = platform_of_ci_support_file(&self.file_name).unwrap_or(Subdir::Linux64);
        Variant::from_ci_support(&self.text, fallback)
    }
}

/// The platform a `.ci_support` file name denotes, as cf-scripts reads it (reference §2.3
/// step 3): the first `_` token is the OS (trailing arch digits of old names such as
/// `linux64` stripped), the second the architecture when it is one, else `64`.
pub fn platform_of_ci_support_file(file_name: &str) -> Option<Subdir> {
    let stem = file_name.strip_suffix(".yaml").unwrap_or(file_name);
    let mut tokens = stem.split('_');
    let first = tokens.next()?;
    let os = ["64", "aarch64", "ppc64le", "arm64", "32"]
        .iter()
        .find_map(|suffix| first.strip_suffix(suffix).filter(|s| !s.is_empty()))
        .unwrap_or(first);
    const ARCHES: [&str; 8] = [
        "64", "aarch64", "ppc64le", "arm64", "32", "s390x", "armv7l", "riscv64",
    ];
    let arch = tokens
        .next()
        .filter(|token| ARCHES.contains(token))
        .unwrap_or("64");
    Subdir::from_str(&format!("{os}-{arch}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! platform_case {
        ($($test:ident: $file:expr => $platform:expr;)*) => {$(
            #[test]
            fn $test() {
                assert_eq!(platform_of_ci_support_file($file), $platform);
            }
        )*};
    }

    platform_case! {
        linux_64_file_is_linux_64: "linux_64_python3.12.____cpython.yaml" => Some(Subdir::Linux64);
        aarch64_file_is_linux_aarch64: "linux_aarch64_python3.12.yaml" => Some(Subdir::LinuxAarch64);
        ppc64le_file_is_linux_ppc64le: "linux_ppc64le_.yaml" => Some(Subdir::LinuxPpc64le);
        osx_arm64_file_is_osx_arm64: "osx_arm64_.yaml" => Some(Subdir::OsxArm64);
        win_file_is_win_64: "win_64_cuda_compilerNone.yaml" => Some(Subdir::Win64);
        old_style_linux64_is_linux_64: "linux64_.yaml" => Some(Subdir::Linux64);
        riscv64_file_is_linux_riscv64: "linux_riscv64_.yaml" => Some(Subdir::LinuxRiscv64);
        win_arm64_file_is_win_arm64: "win_arm64_freethreadingno.yaml" => Some(Subdir::WinArm64);
        unknown_os_is_none: "freebsdx_64_.yaml" => None;
    }
}
