//! What was wrong with a server's certificate, found in a failed request and said in words.
//!
//! A TLS refusal reaches us wrapped several times (reqwest, hyper, an I/O error, rustls);
//! [`CertProblem::of`] walks the chain to rustls's own error, so a message can name the
//! problem (`UnknownIssuer`, expired, another name) instead of "connection failed", and
//! [`CertProblem::fix`] says which setting fixes it.

use std::error::Error as StdError;
use std::fmt;

use rustls::CertificateError;

/// How many links of an error chain are looked at: chains are a handful long.
const MAX_CHAIN: usize = 32;

/// A certificate problem the client found while connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// Signed by a CA this machine does not trust (a company CA, or self-signed).
    UnknownIssuer,
    /// Past its end date.
    Expired,
    /// Before its start date.
    NotYetValid,
    /// Issued for other names (`presented`, when rustls said which).
    WrongName { presented: Vec<String> },
    /// Revoked by its issuer.
    Revoked,
    /// The server answered something other than TLS (e.g. plain HTTP on an https URL).
    NotTls,
    /// Any other refusal, in rustls's words.
    Other(String),
}

impl CertProblem {
    /// The certificate problem behind `error`, if a TLS refusal caused it.
    #[must_use]
    pub fn of(error: &(dyn StdError + 'static)) -> Option<Self> {
        find_rustls(error).map(Self::from_rustls)
    }

    fn from_rustls(error: &rustls::Error) -> Self {
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => Self::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    Self::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    Self::NotYetValid
                }
                CertificateError::NotValidForName => Self::WrongName {
                    presented: Vec::new(),
                },
                CertificateError::NotValidForNameContext { presented, .. } => Self::WrongName {
                    presented: presented.clone(),
                },
                CertificateError::Revoked => Self::Revoked,
                other => Self::Other(format!("{other:?}")),
            },
            rustls::Error::InvalidMessage(_) => Self::NotTls,
            other => Self::Other(other.to_string()),
        }
    }

    /// rustls's name of the problem, as curl and other tools print it.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::UnknownIssuer => "UnknownIssuer",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotValidYet",
            Self::WrongName { .. } => "NotValidForName",
            Self::Revoked => "Revoked",
            Self::NotTls => "InvalidMessage",
            Self::Other(text) => text,
        }
    }

    /// What to do about it; `setting` is the per-app setting of the side that failed
    /// (e.g. `target.ca_file`).
    #[must_use]
    pub fn fix(&self, setting: &str) -> String {
        match self {
            Self::UnknownIssuer => format!(
                "if it is signed by your organisation's CA, add that CA to this machine's trust \
                 store, or give the CA's PEM file as {setting} (this app) or --ca-file / \
                 USERSYNC_CA_FILE (every app)"
            ),
            Self::Expired => {
                "renew the server's certificate, or check this machine's clock".to_owned()
            }
            Self::NotYetValid => {
                "check this machine's clock, or wait until the certificate is valid".to_owned()
            }
            Self::WrongName { .. } => {
                "use the URL of a name the certificate carries, or have the certificate reissued \
                 for this name"
                    .to_owned()
            }
            Self::Revoked => "have the server's certificate replaced".to_owned(),
            Self::NotTls => {
                "check the URL's scheme and port: the server does not speak TLS there".to_owned()
            }
            Self::Other(_) => format!(
                "check the server's certificate chain; a missing CA can be given as {setting} or \
                 --ca-file"
            ),
        }
    }
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownIssuer => f.write_str(
                "UnknownIssuer: the certificate is signed by a CA this machine does not trust",
            ),
            Self::Expired => f.write_str("Expired: the certificate has expired"),
            Self::NotYetValid => f.write_str("NotValidYet: the certificate is not valid yet"),
            Self::WrongName { presented } if presented.is_empty() => {
                f.write_str("NotValidForName: the certificate is for another name")
            }
            Self::WrongName { presented } => write!(
                f,
                "NotValidForName: the certificate is for another name ({})",
                presented.join(", ")
            ),
            Self::Revoked => f.write_str("Revoked: the certificate has been revoked"),
            Self::NotTls => f.write_str("the server did not answer with TLS"),
            Self::Other(text) => write!(f, "the certificate was refused ({text})"),
        }
    }
}

/// Walks `error`'s chain to a rustls error, looking inside I/O errors, whose own
/// `source` skips the error they wrap.
fn find_rustls<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next: Option<&'a (dyn StdError + 'static)> = Some(error);
    for _ in 0..MAX_CHAIN {
        let current = next?;
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => current.source(),
            },
            None => current.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_issuer_wrapped_in_an_io_error_is_found_and_named() {
        let rustls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let problem = CertProblem::of(&io).expect("found");
        assert_eq!(problem, CertProblem::UnknownIssuer);
        assert!(problem.to_string().contains("UnknownIssuer"));
        assert!(problem.fix("target.ca_file").contains("target.ca_file"));
    }

    #[test]
    fn an_error_without_tls_in_its_chain_has_no_certificate_problem() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(CertProblem::of(&io), None);
    }
}
