//! The cheap device classifier of `device` conditions: a few case-insensitive substring checks
//! on the user agent, no regular expressions and no user agent parser (that runs in the visit
//! writer, off the redirect lane).

use std::fmt;
use std::str::FromStr;

/// A kind of device a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// iPhone, iPad, iPod (an iPad that asks for desktop sites says `Macintosh` and counts as
    /// macOS: its user agent cannot tell).
    Ios,
    Android,
    /// A phone or tablet: iOS, Android, or any user agent with a `Mobile` token.
    Mobile,
    /// A computer: Windows, macOS, Linux or ChromeOS, and not mobile.
    Desktop,
    Windows,
    Macos,
    /// Linux, not Android.
    Linux,
}

impl Device {
    pub const ALL: [&'static str; 7] = [
        "ios", "android", "mobile", "desktop", "windows", "macos", "linux",
    ];

    /// Whether a user agent is of this kind; a missing one is of none.
    pub fn matches(self, user_agent: Option<&[u8]>) -> bool {
        let Some(ua) = user_agent else {
            return false;
        };
        let has = |needle: &str| contains_ignore_case(ua, needle.as_bytes());
        let ios = || has("iphone") || has("ipad") || has("ipod");
        let android = || has("android");
        let mobile = || ios() || android() || has("mobile") || has("windows phone");
        match self {
            Self::Ios => ios(),
            Self::Android => android(),
            Self::Mobile => mobile(),
            Self::Desktop => {
                !mobile()
                    && (has("windows nt")
                        || has("macintosh")
                        || has("x11")
                        || has("linux")
                        || has("cros"))
            }
            Self::Windows => has("windows nt") && !has("windows phone"),
            Self::Macos => has("macintosh") && !ios(),
            Self::Linux => (has("linux") || has("x11")) && !android(),
        }
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

impl FromStr for Device {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        Ok(match value.to_ascii_lowercase().as_str() {
            "ios" => Self::Ios,
            "android" => Self::Android,
            "mobile" => Self::Mobile,
            "desktop" => Self::Desktop,
            "windows" => Self::Windows,
            "macos" => Self::Macos,
            "linux" => Self::Linux,
            _ => {
                return Err(format!(
                    "`{value}` is not a device (one of {})",
                    Self::ALL.join(", ")
                ))
            }
        })
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = *self as usize;
        f.write_str(Self::ALL[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
        (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
        (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
    const LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const CURL: &str = "curl/8.5.0";

    #[test]
    fn each_kind_matches_its_devices() {
        let table = [
            (
                IPHONE,
                "ios android mobile desktop windows macos linux",
                "1 0 1 0 0 0 0",
            ),
            (
                IPAD,
                "ios android mobile desktop windows macos linux",
                "1 0 1 0 0 0 0",
            ),
            (
                ANDROID_PHONE,
                "ios android mobile desktop windows macos linux",
                "0 1 1 0 0 0 0",
            ),
            (
                ANDROID_TABLET,
                "ios android mobile desktop windows macos linux",
                "0 1 1 0 0 0 0",
            ),
            (
                WINDOWS,
                "ios android mobile desktop windows macos linux",
                "0 0 0 1 1 0 0",
            ),
            (
                MAC,
                "ios android mobile desktop windows macos linux",
                "0 0 0 1 0 1 0",
            ),
            (
                LINUX,
                "ios android mobile desktop windows macos linux",
                "0 0 0 1 0 0 1",
            ),
            (
                CURL,
                "ios android mobile desktop windows macos linux",
                "0 0 0 0 0 0 0",
            ),
        ];
        for (ua, kinds, expected) in table {
            for (kind, want) in kinds.split(' ').zip(expected.split(' ')) {
                let device: Device = kind.parse().unwrap();
                assert_eq!(
                    device.matches(Some(ua.as_bytes())),
                    want == "1",
                    "{kind} of {ua}"
                );
                assert!(!device.matches(None));
                assert_eq!(device.to_string(), kind);
            }
        }
        assert_eq!("iOS".parse::<Device>(), Ok(Device::Ios));
    }
}
