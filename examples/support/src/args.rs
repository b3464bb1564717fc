//! A small command-line flag reader shared by the examples and the bench programs:
//! `--name value` and bare `--switch`, nothing else.

use std::str::FromStr;
use std::time::Duration;

/// The program's arguments, looked up by flag name.
pub struct Args {
    args: Vec<String>,
}

impl Args {
    /// The process's arguments after the program name.
    pub fn from_env() -> Args {
        Args {
            args: std::env::args().skip(1).collect(),
        }
    }

    /// Whether `--name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }

    /// The value after `--name`, parsed, or `default`; exits with a message if it does not parse.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> T
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|e| {
                eprintln!("{name} {v:?}: {e}");
                std::process::exit(2)
            }),
        }
    }

    /// The value after `--name` as it was written.
    pub fn raw(&self, name: &str) -> Option<&str> {
        let i = self.args.iter().position(|a| a == name)?;
        match self.args.get(i + 1) {
            Some(v) => Some(v),
            None => {
                eprintln!("{name} needs a value");
                std::process::exit(2)
            }
        }
    }

    /// A duration written as `10s`, `250ms` or a plain number of seconds.
    pub fn duration(&self, name: &str, default: Duration) -> Duration {
        let Some(v) = self.raw(name) else {
            return default;
        };
        let parsed = if let Some(ms) = v.strip_suffix("ms") {
            ms.parse::<u64>().ok().map(Duration::from_millis)
        } else {
            v.trim_end_matches('s')
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        };
        parsed.unwrap_or_else(|| {
            eprintln!("{name} {v:?}: expected a duration such as 10s or 250ms");
            std::process::exit(2)
        })
    }
}
